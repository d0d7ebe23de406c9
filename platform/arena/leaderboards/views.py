from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

import scorers
from arena.challenges.models import Phase
from arena.challenges.selectors import phase_visible_by_slugs
from arena.challenges.visibility import FROZEN, default_split, describe_board, describe_entry_rule
from arena.core.errors import DomainError
from arena.factsheets.selectors import factsheet_questions
from arena.leaderboards.selectors import (
    leaderboard_board,
    leaderboard_for_phase,
    leaderboard_protocol,
    leaderboard_snapshot,
    leaderboard_visible_splits,
)
from arena.submissions.robustness_chart import SUMMARY_WORDS

PAGE_SIZE = 100


def _phase(request, slug: str, track_slug: str, phase_slug: str) -> Phase:
    phase = phase_visible_by_slugs(user=request.user, slug=slug, track_slug=track_slug, phase_slug=phase_slug)
    if phase is None:
        raise Http404("No such phase.")
    return phase


def leaderboard_page(request, slug: str, track_slug: str, phase_slug: str):
    phase = _phase(request, slug, track_slug, phase_slug)
    split = request.GET.get("split") or default_split(phase)
    scorer = scorers.get_scorer(phase.track.scorer_key)
    context = {"phase": phase, "track": phase.track, "challenge": phase.track.challenge, "split": split,
               "scorer": scorer, "visible_splits": leaderboard_visible_splits(phase, request.user),
               "board_rule": describe_board(phase), "entry_rule": describe_entry_rule(phase)}
    try:
        entries = leaderboard_for_phase(phase=phase, split=split, user=request.user)
        if leaderboard_board(phase=phase, split=split, user=request.user) == FROZEN:
            context["frozen_at"] = phase.frozen_at
    except DomainError as exc:
        context["refusal"] = exc.message
        return render(request, "leaderboards/leaderboard.html", context, status=exc.status)
    metric_names = [m for m in scorer.metric_names if m != scorer.primary_metric]
    questions = list(factsheet_questions(phase).filter(on_leaderboard=True))
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    protocol = leaderboard_protocol(phase)
    condition_names = protocol.names if protocol is not None else []
    for entry in rows:
        entry.metric_values = [entry.metrics.get(m) for m in metric_names]
        entry.condition_values = [(entry.conditions or {}).get(c) for c in condition_names]
        entry.answer_values = [entry.answers.get(q.key, "") for q in questions]
    context.update(entries=rows, page=page, metric_names=metric_names, questions=questions,
                   condition_names=condition_names,
                   robustness_summary=SUMMARY_WORDS[protocol.summary] if protocol is not None else "")
    return render(request, "leaderboards/leaderboard.html", context)


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
