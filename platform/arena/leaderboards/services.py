"""Storing a phase's leaderboard entries. Runs when scores change; a read only numbers the stored rows in the
order of their keys (``arena.leaderboards.models.LeaderboardEntry``).

A team's entry depends on its own submissions only, so a scoring recomputes that team's entry from its
submissions and replaces its row on each board; organiser actions that touch many teams (re-runs,
disqualifications) recompute everything.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import kombu.exceptions
import numpy as np
from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

import scorers
from arena.challenges.models import BoardVisibility, EntryRule, Phase, Track
from arena.challenges.visibility import FROZEN
from arena.factsheets.selectors import factsheet_answers_of
from arena.leaderboards.exports import board_csv_render, entry_row_head, leaderboard_csv_columns
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, SampleRecord, StoredEntry
from arena.leaderboards.ranking import (
    entry_rewrite,
    order_key,
    passes_none,
    public_ranks_change,
    rank_key,
    ranking_rule,
)
from arena.leaderboards.statistics import BoardRow, board_statistics
from arena.submissions.models import ScoreSplit, SubmissionScore, SubmissionStatus
from scorers.stats import board_seed, paired_resample_scores

log = logging.getLogger(__name__)

PUBLIC, PRIVATE = ScoreSplit.PUBLIC.value, ScoreSplit.PRIVATE.value


@dataclass
class _Row:
    """A candidate for one board: a submission's score on that board's split."""

    submission_id: int
    team_id: int | None
    team_name: str
    method_name: str
    submitted_at: object
    is_baseline: bool
    score: float
    metrics: dict
    entries_count: int = 1
    key: tuple = ()
    conditions: dict = field(default_factory=dict)
    order_key: bytes = b""


def metric_greater_is_better(scorer, metric: str) -> bool:
    """Direction of a metric, as the track's scorer declares it."""
    return scorer.metric_greater_is_better(metric)


def condition_scores(conditions: list | None) -> dict[str, float | None]:
    """A split's per-condition scores (``SubmissionScore.conditions``) as ``{name: score}``, protocol order."""
    return {c["name"]: c.get("score") for c in conditions or [] if isinstance(c, dict) and "name" in c}


def _sort_key(score: float, metrics: dict, *, scorer, tie_breaks: list[str]) -> tuple[float, ...]:
    """A tuple where larger is better: the primary score, then each tie-break metric."""

    def oriented(value, greater: bool) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return -math.inf
        return float(value) if greater else -float(value)

    key = [oriented(score, scorer.greater_is_better)]
    key += [oriented(metrics.get(name), metric_greater_is_better(scorer, name)) for name in tie_breaks]
    return tuple(key)


def _recompute(phase: Phase, scope: Q | None, *, keyed, before=None) -> dict[str, list[_Row]]:
    """Public and private board rows of the teams (and baselines) in ``scope``, from their scores;
    ``before``: only entries submitted before that time (the frozen board)."""
    rows = SubmissionScore.objects.filter(
        submission__phase=phase, submission__status=SubmissionStatus.SCORED,
        submission__disqualified_at__isnull=True,
    )
    if scope is not None:
        rows = rows.filter(scope)
    if before is not None:
        rows = rows.filter(submission__created_at__lt=before)
    rows = rows.values_list(
        "submission_id", "split", "score", "metrics", "conditions", "submission__team_id", "submission__team__name",
        "submission__method_name", "submission__created_at", "submission__is_baseline", "submission__is_selected")
    # A whole phase's scores are read in chunks; a few teams' in one round trip (a chunked read opens a
    # server-side cursor: three).
    by_submission: dict[int, dict] = {}
    for (sid, split, score, metrics, conditions, team_id, team_name, method, created, baseline,
         selected) in (rows.iterator(chunk_size=5000) if scope is None else rows):
        entry = by_submission.setdefault(sid, {"team_id": team_id, "team_name": team_name or "", "method": method,
                                               "created": created, "baseline": baseline, "selected": selected})
        entry[split] = (score, metrics, condition_scores(conditions))

    def row(candidate: tuple[int, dict], split: str) -> _Row:
        sid, data = candidate
        score, metrics, conditions = data[split]
        return keyed(_Row(sid, data["team_id"], data["team_name"], data["method"], data["created"],
                          data["baseline"], score, metrics, conditions=conditions))

    boards: dict[str, list[_Row]] = {PUBLIC: [], PRIVATE: []}
    teams: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    for candidate in by_submission.items():
        if candidate[1]["baseline"]:
            for split in (PUBLIC, PRIVATE):
                if split in candidate[1]:
                    boards[split].append(row(candidate, split))
        else:
            teams[candidate[1]["team_id"]].append(candidate)
    for entries in teams.values():
        for split, chosen in _counted(phase, entries, row).items():
            if chosen is not None:
                counted = row(chosen, split)
                counted.entries_count = len(entries)
                boards[split].append(counted)
    return boards


def _counted(phase: Phase, entries: list[tuple[int, dict]], row) -> dict[str, tuple[int, dict] | None]:
    """The entry of one team that counts on each board, by the phase's entry rule.

    The public board shows the team's best public entry (its last one under "last"). The private
    board never chooses by private score except under "best on the hidden split", where no score is
    shown before the reveal and the total limit is small.
    """
    def best(pool, split):
        pool = [c for c in pool if split in c[1]]
        return max(pool, key=lambda c: (row(c, split).key, c[1]["created"])) if pool else None

    latest = max(entries, key=lambda c: (c[1]["created"], c[0]))
    best_public = best(entries, PUBLIC)
    rule = phase.entry_rule
    if rule == EntryRule.LAST:
        return {PUBLIC: latest if PUBLIC in latest[1] else None, PRIVATE: latest if PRIVATE in latest[1] else None}
    if rule == EntryRule.BEST_HIDDEN:
        pool = entries
    elif rule == EntryRule.SELECTED:
        pool = [c for c in entries if c[1]["selected"]] or [best_public or latest]
    else:  # best public; on a phase without a public split (refused by the admin), the last entry
        pool = [best_public or latest]
    return {PUBLIC: best_public, PRIVATE: best(pool, PRIVATE)}


def leaderboard_lock_phase(*, phase_id: int) -> Phase:
    """Lock the phase's boards for the rest of the transaction.

    ``FOR NO KEY UPDATE``: it serialises the phase's rankings, yet never blocks (or waits for) the
    foreign-key checks of submissions being inserted into the phase at the same time.
    """
    return Phase.objects.select_for_update(no_key=True, of=("self",)).select_related("track").get(pk=phase_id)


@transaction.atomic
def leaderboard_refresh(*, phase_id: int, team_ids: Iterable[int | None] | None = None) -> dict[str, int]:
    """Re-rank the boards of a phase (public, private, and frozen where it freezes) and store them;
    returns the number of rows per board.

    ``team_ids`` limits the recomputation to those teams (``None`` in it: the baselines): their entries
    are recomputed and moved in place among the stored others, and each changed board's CSV is rendered
    again by its next reader. Without it every entry is recomputed from the scores and every board rewritten.
    """
    # The lock serialises refreshes of one phase, so concurrent scorings cannot interleave.
    phase = leaderboard_lock_phase(phase_id=phase_id)
    track = phase.track
    scorer = scorers.get_scorer(track.scorer_key)
    tie_breaks = list(track.tie_break_metrics or [])
    rule = ranking_rule(scorer, tie_breaks)

    def keyed(r: _Row) -> _Row:
        r.key = _sort_key(r.score, r.metrics, scorer=scorer, tie_breaks=tie_breaks)
        return r

    frozen = phase.board_visibility == BoardVisibility.FROZEN and phase.frozen_at is not None
    stored = {}
    if team_ids is not None:
        stored = {split: rest for split, *rest in LeaderboardSnapshot.objects.filter(phase=phase).values_list(
            "split", "ranked_by", "rows")}
    # A board just frozen, a board not stored yet, or one keyed under another rule is stored in full once. A team's
    # entries are replaced one by one on PostgreSQL (the lookups of ``arena.leaderboards.ranking``): on another
    # database (the embedded SQLite of the demo) every refresh stores every entry again.
    if team_ids is not None and connection.vendor == "postgresql" and {
            split: ranked_by for split, (ranked_by, _) in stored.items()} == {
            board: rule for board in (PUBLIC, PRIVATE, *([FROZEN] if frozen else []))}:
        counts = _refresh_teams(phase, set(team_ids), keyed=keyed, frozen=frozen, snapshots=stored)
    else:
        counts = _refresh_all(phase, scorer, rule, keyed=keyed, frozen=frozen)
    # The entries' statistics are computed after the commit, off the phase lock (see below).
    transaction.on_commit(lambda: leaderboard_statistics_request(phase_id=phase_id))
    return counts


def _refresh_all(phase: Phase, scorer, rule: str, *, keyed, frozen: bool) -> dict[str, int]:
    """Every entry recomputed from the scores and every board stored anew (organiser actions)."""
    boards = _recompute(phase, None, keyed=keyed)
    if frozen:
        boards[FROZEN] = _recompute(phase, None, keyed=keyed, before=phase.frozen_at)[PUBLIC]
    # Each board's entries in its order (``ranking.order_key``), which is how they are read.
    for rows in boards.values():
        for r in rows:
            r.order_key = order_key(rank_key(r.key), r.submitted_at, r.submission_id)
        rows.sort(key=lambda r: r.order_key)

    # A board whose entries stay the same keeps its statistics (and so its CSV and refresh time).
    previous: dict[str, list] = defaultdict(list)
    for board, sid, score, stats in LeaderboardEntry.objects.filter(phase=phase).order_by(
            "split", "position").values_list("split", "submission_id", "score", "statistics"):
        previous[board].append((sid, score, stats))
    # A CSV left to its next reader is compared as that reader would get it.
    stale = {board: board_csv_render(phase=phase, board=board) for board in LeaderboardSnapshot.objects.filter(
        phase=phase, csv_stale=True, split__in=list(boards)).values_list("split", flat=True)}
    StoredEntry.objects.filter(phase=phase).delete()
    LeaderboardSnapshot.objects.filter(phase=phase).exclude(split__in=list(boards)).delete()
    answer_keys = leaderboard_csv_columns(phase, scorer)[2]
    answers = factsheet_answers_of({r.submission_id for rows in boards.values() for r in rows},
                                   leaderboard_only=True) if answer_keys else {}
    for board, rows in boards.items():
        entries = [_entry(phase, board, r, answers=answers.get(r.submission_id, {})) for r in rows]
        before = previous.get(board, [])
        unchanged = [(sid, score) for sid, score, _ in before] == [(e.submission_id, e.score) for e in entries]
        for entry, (_, _, stats) in zip(entries, before if unchanged else [], strict=False):
            entry.statistics = stats
        for entry in entries:
            entry.row_head = entry_row_head(entry)
        StoredEntry.objects.bulk_create(entries, batch_size=1000)
        csv = board_csv_render(phase=phase, board=board)
        # An unchanged board keeps its refresh time, the board's HTTP validator (``arena.leaderboards.caching``):
        # the frozen and public boards must not move with entries that only the hidden boards show.
        snapshot = LeaderboardSnapshot.objects.filter(phase=phase, split=board).values_list(
            "rows", "csv", "csv_stale", "ranked_by").first()
        if snapshot is None or (snapshot[0], stale.get(board, snapshot[1])) != (len(entries), csv):
            LeaderboardSnapshot.objects.update_or_create(phase=phase, split=board, defaults={
                "rows": len(entries), "csv": csv, "csv_stale": False, "ranked_by": rule,
                **({} if unchanged else {"statistics_refreshed_at": None})})
        elif snapshot[2:] != (False, rule):  # the same board: its CSV and keys stored, its refresh time kept
            LeaderboardSnapshot.objects.filter(phase=phase, split=board).update(csv=csv, csv_stale=False,
                                                                                ranked_by=rule)
    return {board: len(rows) for board, rows in boards.items()}


def _entry(phase: Phase, board: str, r: _Row, *, answers: dict) -> StoredEntry:
    ranking = rank_key(r.key)
    return StoredEntry(
        phase=phase, split=board, submission_id=r.submission_id, team_id=r.team_id, is_baseline=r.is_baseline,
        score=r.score, metrics=r.metrics, conditions=r.conditions, team_name=r.team_name,
        method_name=r.method_name, submitted_at=r.submitted_at, entries_count=r.entries_count, answers=answers,
        rank_key=ranking, order_key=order_key(ranking, r.submitted_at, r.submission_id))


#: What a stored entry holds besides its place: equal in all of them, an entry has not changed.
_CONTENT = ("submission_id", "team_id", "is_baseline", "score", "metrics", "conditions", "team_name", "method_name",
            "submitted_at", "entries_count", "answers", "order_key")


def _refresh_teams(phase: Phase, ids: set[int | None], *, keyed, frozen: bool, snapshots: dict) -> dict[str, int]:
    """Recompute the entries of the teams in ``ids`` (``None``: the baselines) and replace each changed one on
    each board; the others' rows stay as they are (their places follow from the order when read).
    ``snapshots``: each board's ``(ranked_by, rows)``."""
    teams = [i for i in ids if i is not None]
    submission_scope, scope = Q(submission__team_id__in=teams), Q(team_id__in=teams)
    if None in ids:
        submission_scope |= Q(submission__is_baseline=True)
        scope |= Q(is_baseline=True)
    boards = _recompute(phase, submission_scope, keyed=keyed)
    if frozen:
        boards[FROZEN] = _recompute(phase, submission_scope, keyed=keyed, before=phase.frozen_at)[PUBLIC]
    new_ids = {r.submission_id for rows in boards.values() for r in rows}
    answers = factsheet_answers_of(new_ids, leaderboard_only=True) if new_ids else {}
    old: dict[str, dict] = defaultdict(dict)
    for e in StoredEntry.objects.filter(scope, phase=phase).defer("row_head"):
        old[e.split][(e.is_baseline, e.submission_id if e.is_baseline else e.team_id)] = e

    changed: dict[str, bool] = {}  # board: whether its order changed too
    rows_delta: dict[str, int] = defaultdict(int)
    for board in (PUBLIC, PRIVATE, FROZEN):
        if board not in boards:
            continue
        # A team has one entry per board, a baseline one per submission.
        new = {(r.is_baseline, r.submission_id if r.is_baseline else r.team_id): r for r in boards[board]}
        for who in sorted(set(new) | set(old[board])):
            before, r = old[board].get(who), new.get(who)
            entry = None
            if r is not None:
                entry = _entry(phase, board, r, answers=answers.get(r.submission_id, {}))
                if before is not None and all(getattr(before, f) == getattr(entry, f) for f in _CONTENT):
                    continue  # the stored entry is this one
                if before is not None and bytes(before.order_key) == entry.order_key:
                    _rewrite(before, entry)  # the same place: only what the entry shows changed
                    changed.setdefault(board, False)
                    continue
            reordered, public_ranks = _move(phase, board, before, entry)
            changed[board] = changed.get(board, False) or reordered
            if public_ranks:
                changed[PRIVATE] = changed.get(PRIVATE, False)
            rows_delta[board] += (entry is not None) - (before is not None)
    # A board whose order changed no longer shows its statistics (its snapshot's ``statistics_refreshed_at``
    # cleared below hides them on every row, ``LeaderboardEntry``) until the next statistics run.
    reordered = [board for board, order_changed in changed.items() if order_changed]
    if changed:
        LeaderboardSnapshot.objects.filter(phase=phase, split__in=list(changed)).update(
            rows=Case(*[When(split=board, then=F("rows") + delta) for board, delta in rows_delta.items()],
                      default=F("rows"), output_field=models.PositiveIntegerField()),
            statistics_refreshed_at=Case(When(split__in=reordered, then=None), default=F("statistics_refreshed_at")),
            refreshed_at=timezone.now(), csv_stale=True)
    return {board: rows + rows_delta.get(board, 0) for board, (_, rows) in snapshots.items()}


def _rewrite(before: StoredEntry, entry: StoredEntry) -> None:
    """``entry`` takes the place of ``before``, which has the same order key (the same submission and ranking
    values): its statistics stay as stored, the rest is rewritten in one statement."""
    entry.statistics = before.statistics  # the head of its API row begins with them
    entry_rewrite(pk=before.pk, row_head=entry_row_head(entry), fields={
        f: getattr(entry, f) for f in _CONTENT if getattr(before, f) != getattr(entry, f)})


def _move(phase: Phase, board: str, before: StoredEntry | None, entry: StoredEntry | None) -> tuple[bool, bool]:
    """Replace ``before`` (None: not on the board) by ``entry`` (None: leaves the board); returns whether the
    board's order (its submissions and scores, position by position) changed, and whether a private row's public
    rank changed with it."""
    stored = entry if entry is not None else before
    team, baseline = stored.team_id, stored.is_baseline
    if before is not None:
        StoredEntry.objects.filter(pk=before.pk).delete()
    same_place = False
    if entry is not None:
        same_place = before is not None and (before.submission_id, before.score) == (
            entry.submission_id, entry.score) and passes_none(
            phase_id=phase.pk, board=board, old=bytes(before.order_key), new=entry.order_key)
        entry.statistics = before.statistics if same_place else None
        entry.row_head = entry_row_head(entry)
        entry.save(force_insert=True)
    public_ranks = False
    if board == PUBLIC and not baseline:
        public_ranks = public_ranks_change(
            phase_id=phase.pk, team_id=team, old=bytes(before.rank_key) if before is not None else None,
            new=entry.rank_key if entry is not None else None)
    return not same_place, public_ranks


# --- Statistics: how sure the board is of its order -------------------------------------------

#: The task computing a phase's board statistics, by name (the tasks module imports the services).
STATISTICS_TASK = "arena.leaderboards.tasks.refresh_board_statistics"
#: A queued statistics run that has not started after this long is taken for lost and queued again.
STATISTICS_LOST_SECONDS = 600


def board_settings(track: Track) -> tuple[int, float]:
    """The resamples and the significance level of the track's board statistics: the track's own
    (``Track.board_resamples``, ``Track.board_alpha``), else the site's settings ``ARENA_BOARD_RESAMPLES``
    (default 1000) and ``ARENA_BOARD_ALPHA`` (default 0.05: 95% intervals)."""
    resamples = track.board_resamples or int(getattr(settings, "ARENA_BOARD_RESAMPLES", 1000))
    alpha = track.board_alpha if track.board_alpha is not None else float(getattr(settings, "ARENA_BOARD_ALPHA", 0.05))
    return int(resamples), float(alpha)


def sample_record_compute(*, phase_id: int, split: str, resampling) -> dict | None:
    """What ``sample_records_save`` stores for one split of a submission: its primary score under the
    board's resamples of the split (``scorers.stats.paired_resample_scores``). None without a resampling.

    The scoring worker runs it outside any transaction (it reads the track's ``board_settings``).
    """
    if resampling is None:
        return None
    track = Track.objects.only("board_resamples", "board_alpha").get(phases__pk=phase_id)
    seed, (resamples, _) = board_seed(phase_id, split), board_settings(track)
    scores = paired_resample_scores(resampling, resamples=resamples, seed=seed)
    return {"seed": seed, "resamples": resamples, "samples": resampling.samples(),
            "scores": np.asarray(scores, dtype="<f8").tobytes()}


def sample_records_save(*, submission_id: int, records: Mapping[str, dict | None]) -> None:
    """Store (or, for a split without one, remove) the submission's sample records, by split."""
    gone = [split for split, record in records.items() if record is None]
    if gone:
        SampleRecord.objects.filter(submission_id=submission_id, split__in=gone).delete()
    kept = [SampleRecord(submission_id=submission_id, split=split, **record)
            for split, record in records.items() if record is not None]
    if kept:  # one statement, under the phase lock
        SampleRecord.objects.bulk_create(kept, update_conflicts=True, unique_fields=["submission", "split"],
                                         update_fields=["seed", "resamples", "samples", "scores"])


def leaderboard_statistics_request(*, phase_id: int) -> bool:
    """Queue one statistics run for the phase's boards, unless one is already waiting (it will read the
    boards as they are when it runs). Runs ``ARENA_BOARD_STATISTICS_SECONDS`` (default 30) later, so a
    burst of scorings costs one run. Phases without sample records (tracks without resampling) queue
    nothing. Returns whether a run was queued."""
    if not SampleRecord.objects.filter(submission__phase_id=phase_id).exists():
        return False
    now = timezone.now()
    waiting = Q(statistics_queued_at__isnull=True) | Q(statistics_queued_at__lt=now - timedelta(
        seconds=STATISTICS_LOST_SECONDS))
    if not LeaderboardSnapshot.objects.filter(waiting, phase_id=phase_id).update(statistics_queued_at=now):
        return False
    delay = int(getattr(settings, "ARENA_BOARD_STATISTICS_SECONDS", 30))
    try:
        current_app.send_task(STATISTICS_TASK, args=[phase_id], countdown=delay, queue="default", retry=True,
                              retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2})
    except (kombu.exceptions.OperationalError, kombu.exceptions.ConnectionError, OSError) as exc:
        # The next change of the board queues it again (or, after STATISTICS_LOST_SECONDS, any change).
        log.warning("broker unavailable, statistics of phase %s not queued: %s", phase_id, exc)
        LeaderboardSnapshot.objects.filter(phase_id=phase_id, statistics_queued_at=now).update(
            statistics_queued_at=None)
        return False
    return True


def _board_rows(phase_id: int, board: str, entries: list[tuple], resamples: int) -> list[BoardRow]:
    """The board's entries with their resampled scores; only records drawn as the board's are paired."""
    split = PUBLIC if board == FROZEN else board  # the frozen board ranks public scores
    found = SampleRecord.objects.filter(
        submission_id__in=[e[1] for e in entries], split=split, seed=board_seed(phase_id, split),
        resamples=resamples,
    ).values_list("submission_id", "samples", "scores")
    records = {sid: (samples, bytes(data)) for sid, samples, data in found}
    # Entries scored against another reference (a replaced file not yet re-run) cannot be paired.
    common = Counter(samples for samples, _ in records.values()).most_common(1)
    samples = common[0][0] if common else None

    def resampled(sid: int) -> np.ndarray | None:
        record = records.get(sid)
        return np.frombuffer(record[1], dtype="<f8") if record and record[0] == samples else None

    return [BoardRow(score, baseline, resampled(sid)) for _, sid, score, baseline in entries]


def leaderboard_statistics_refresh(*, phase_id: int) -> dict[str, int]:
    """Compute the statistics of every board of the phase and store them on the entries and their API rows
    (the CSV follows at its next read); returns, per board, how many entries have statistics.

    The computation runs off the phase lock; the lock is taken only to store, and a board that changed
    meanwhile is left alone (the refresh that changed it queued the next run). A board whose statistics
    come out as stored is not written (its refresh time, the HTTP validator, stays). Safe to run twice.
    """
    LeaderboardSnapshot.objects.filter(phase_id=phase_id).update(statistics_queued_at=None)
    phase = Phase.objects.select_related("track").filter(pk=phase_id).first()
    if phase is None:
        return {}
    scorer = scorers.get_scorer(phase.track.scorer_key)
    # Records drawn with other resamples than the track's (changed since) are not paired (_board_rows).
    resamples, alpha = board_settings(phase.track)
    computed = {}
    for board in LeaderboardSnapshot.objects.filter(phase=phase).values_list("split", flat=True):
        entries = list(LeaderboardEntry.objects.filter(phase=phase, split=board).order_by("position").values_list(
            "pk", "submission_id", "score", "is_baseline"))
        rows = _board_rows(phase_id, board, entries, resamples)
        stats = board_statistics(rows, greater_is_better=scorer.greater_is_better, alpha=alpha)
        computed[board] = ([e[0] for e in entries], stats)
    counts = {}
    with transaction.atomic():
        phase = leaderboard_lock_phase(phase_id=phase_id)
        shown = {split: at is not None for split, at in LeaderboardSnapshot.objects.filter(phase=phase).values_list(
            "split", "statistics_refreshed_at")}
        for board, (pks, stats) in computed.items():
            # In the board's order (``ranking.order_key``), as the view numbers it.
            current = list(StoredEntry.objects.filter(phase=phase, split=board).order_by("order_key"))
            if [e.pk for e in current] != pks:
                continue
            counts[board] = sum(s is not None for s in stats)
            # Statistics stored before the board last changed are kept but not shown: equal to these, they
            # are shown again without being written.
            unchanged = [e.statistics for e in current] == stats
            if unchanged and (shown[board] or not any(stats)):
                continue
            if not unchanged:
                for entry, entry_stats in zip(current, stats, strict=True):
                    entry.statistics = entry_stats
                    entry.row_head = entry_row_head(entry)
                StoredEntry.objects.bulk_update(current, ["statistics", "row_head"], batch_size=1000)
            now = timezone.now()
            # The CSV, like after a scoring, is rendered by its next reader, off the lock.
            LeaderboardSnapshot.objects.filter(phase=phase, split=board).update(
                csv_stale=True, refreshed_at=now, statistics_refreshed_at=now)
    return counts
