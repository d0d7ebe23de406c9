import hashlib

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

import scorers
from arena.challenges.models import Phase
from arena.challenges.selectors import phase_visible_by_slugs
from arena.challenges.visibility import FROZEN, default_split, describe_board, describe_entry_rule
from arena.core.errors import DomainError
from arena.factsheets.selectors import factsheet_questions
from arena.leaderboards.caching import board_page_conditional
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from arena.leaderboards.progression import TeamProgression, leaderboard_progression
from arena.leaderboards.selectors import (
    leaderboard_board,
    leaderboard_protocol,
    leaderboard_snapshot,
    leaderboard_team_entry,
    leaderboard_visible_splits,
)
from arena.submissions.robustness_chart import SUMMARY_WORDS
from arena.teams.selectors import team_of

PAGE_SIZE = 100
MAX_QUERY = 100
#: Bump when the board table's markup changes, so no server serves a cached copy of the old one.
TABLE_VERSION = 2


def _phase(request, slug: str, track_slug: str, phase_slug: str) -> Phase:
    phase = phase_visible_by_slugs(user=request.user, slug=slug, track_slug=track_slug, phase_slug=phase_slug)
    if phase is None:
        raise Http404("No such phase.")
    return phase


def _board_table(*, phase: Phase, board: str, split: str, scorer, rows, questions, condition_names) -> str:
    """The board's table for these rows, the same for every reader (no per-viewer markup)."""
    metric_names = [m for m in scorer.metric_names if m != scorer.primary_metric]
    for entry in rows:
        entry.metric_values = [entry.metrics.get(m) for m in metric_names]
        entry.condition_values = [(entry.conditions or {}).get(c) for c in condition_names]
        entry.answer_values = [entry.answers.get(q.key, "") for q in questions]
    return render_to_string("leaderboards/_board_table.html", {
        "phase": phase, "board": board, "split": split, "scorer": scorer, "entries": rows, "questions": questions,
        "condition_names": condition_names, "with_statistics": any(e.statistics for e in rows),
        "primary_direction": scorer.metric_direction(scorer.primary_metric),
        "metric_columns": [(m, scorer.metric_direction(m)) for m in metric_names],
    })


def _with_own_team(table: str, position: int | None) -> str:
    """Mark the viewer's team's row (found by its board position) in a shared table: a highlight, and
    words a screen reader announces."""
    if position is None:
        return table
    opening = f'<tr id="row-{position}"'
    return table.replace(opening, f'{opening} data-own-team aria-current="true"', 1).replace(
        f"<!--you:{position}-->", ' <strong class="you-badge">(your team)</strong>', 1)


def _progression_chart(progression: list[TeamProgression], metric: str) -> dict:
    """The top-10 progression as a line chart spec for ``static/arena/charts.js``."""
    return {"type": "line", "title": f"Best {metric} of the top-10 teams over time",
            "x": {"type": "time", "title": "Submitted (UTC)"}, "y": {"title": metric},
            "series": [{"label": f"{team.rank}. {team.team_name}",
                        "points": [{"x": at.isoformat(), "y": score} for at, score in team.points]}
                       for team in progression]}


def _progression_section(*, phase: Phase, board: str, scorer, refreshed_at) -> str:
    """The top-10 progression section (empty without teams), the same for every reader of the board."""
    progression = leaderboard_progression(phase=phase, board=board, refreshed_at=refreshed_at,
                                          greater_is_better=scorer.greater_is_better)
    if not progression:
        return ""
    return render_to_string("leaderboards/_progression.html", {
        "progression": progression, "progression_chart": _progression_chart(progression, scorer.primary_metric),
        "scorer": scorer, "board": board, "primary_direction": scorer.metric_direction(scorer.primary_metric)})


@board_page_conditional("html")
def leaderboard_page(request, slug: str, track_slug: str, phase_slug: str):
    # The conditional-read decorator has already read the phase, the board and its snapshot for this request.
    read = getattr(request, "board_read", None)
    phase = read.phase if read is not None else _phase(request, slug, track_slug, phase_slug)
    split = request.GET.get("split") or default_split(phase)
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    scorer = scorers.get_scorer(phase.track.scorer_key)
    context = {"phase": phase, "track": phase.track, "challenge": phase.track.challenge, "split": split,
               "scorer": scorer, "query": query, "primary_direction": scorer.metric_direction(scorer.primary_metric),
               "visible_splits": read.visible_splits if read is not None else leaderboard_visible_splits(
                   phase, request.user),
               "board_rule": describe_board(phase), "entry_rule": describe_entry_rule(phase)}
    try:
        if read is not None and read.refusal is not None:
            raise read.refusal
        board = read.board if read is not None else leaderboard_board(phase=phase, split=split, user=request.user)
    except DomainError as exc:
        context["refusal"] = exc.message
        return render(request, "leaderboards/leaderboard.html", context, status=exc.status)
    if board == FROZEN:
        context["frozen_at"] = phase.frozen_at
    snapshot = read.snapshot if read is not None else \
        LeaderboardSnapshot.objects.filter(phase=phase, split=board).defer("csv").first()
    refreshed_at = snapshot.refreshed_at if snapshot is not None else None
    entries = LeaderboardEntry.objects.filter(phase=phase, split=board).order_by("position")
    if query:
        # Baselines stay: they are the reference lines the matching teams are read against.
        entries = entries.filter(Q(team_name__icontains=query) | Q(is_baseline=True))
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        # The snapshot knows the row count: no COUNT query.
        page = Paginator(range(snapshot.rows if snapshot else 0), PAGE_SIZE).get_page(request.GET.get("page"))

    protocol = leaderboard_protocol(phase)
    condition_names = protocol.names if protocol is not None else []

    questions = list(factsheet_questions(phase).filter(on_leaderboard=True))

    def table() -> str:
        first = (page.number - 1) * PAGE_SIZE
        rows = list(page.object_list) if query else list(entries[first:first + PAGE_SIZE])
        return _board_table(phase=phase, board=board, split=split, scorer=scorer, rows=rows, questions=questions,
                            condition_names=condition_names)

    if query or refreshed_at is None:
        html = table()
    else:
        # Rendered once per board refresh (of its rows, and of their statistics, which come later), page and
        # wording of the fact-sheet columns; the refresh times and the columns' digest in the key retire old copies.
        statistics_at = getattr(snapshot, "statistics_refreshed_at", None)
        columns = hashlib.sha256(repr([(q.pk, q.key, q.text) for q in questions]).encode()).hexdigest()[:16]
        key = (f"board-table:{TABLE_VERSION}:{phase.pk}:{board}:{split}:{refreshed_at.timestamp()}:"
               f"{statistics_at.timestamp() if statistics_at else ''}:{page.number}:{columns}")
        html = cache.get(key)
        if html is None:
            html = table()
            cache.set(key, html, timeout=24 * 3600)
    team = team_of(request.user, phase.track.challenge)
    own = leaderboard_team_entry(phase=phase, board=board, team=team) if team is not None else None
    if own is not None:
        own.update(page=(own["position"] - 1) // PAGE_SIZE + 1, team_name=team.name)
    progression_key = f"board-progression-html:{TABLE_VERSION}:{phase.pk}:{board}:{refreshed_at.timestamp()}" \
        if refreshed_at is not None else None
    progression_html = cache.get(progression_key) if progression_key else None
    if progression_html is None:
        progression_html = _progression_section(phase=phase, board=board, scorer=scorer, refreshed_at=refreshed_at)
        if progression_key:
            cache.set(progression_key, progression_html, timeout=24 * 3600)
    context.update(
        table=mark_safe(_with_own_team(html, own["position"] if own else None)),
        page=page, own=own, refreshed_at=refreshed_at, board=board,
        progression_html=mark_safe(progression_html),
        condition_names=condition_names,
        robustness_summary=SUMMARY_WORDS[protocol.summary] if protocol is not None else "")
    return render(request, "leaderboards/leaderboard.html", context)


@board_page_conditional("csv")
def leaderboard_csv_page(request, slug: str, track_slug: str, phase_slug: str):
    phase = _phase(request, slug, track_slug, phase_slug)
    split = request.GET.get("split") or default_split(phase)
    try:
        snapshot = leaderboard_snapshot(phase=phase, split=split, user=request.user, with_csv=True)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(snapshot.csv if snapshot else "", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{track_slug}-{phase_slug}-{split}.csv"'
    return response
