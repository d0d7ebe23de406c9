"""Ranking a phase's leaderboards. Runs when scores change, never when a board is read."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

import scorers
from arena.challenges.models import LeaderboardMode, Phase
from arena.leaderboards.exports import leaderboard_csv, leaderboard_json
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from arena.submissions.models import ScoreSplit, SubmissionScore, SubmissionStatus


@dataclass
class _Candidate:
    submission_id: int
    team_id: int | None
    team_name: str
    method_name: str
    submitted_at: object
    is_baseline: bool
    is_selected: bool
    scores: dict[str, tuple[float, dict]] = field(default_factory=dict)


def metric_greater_is_better(scorer, metric: str) -> bool:
    """Direction of a metric: the scorer's own declaration, else the naming convention."""
    declared = getattr(scorer, "metric_greater_is_better", None)
    if callable(declared):
        return declared(metric)
    return not (metric in {"mse", "mae", "rmse"} or metric.endswith("_error"))


def _sort_key(score: float, metrics: dict, *, scorer, tie_breaks: list[str]) -> tuple[float, ...]:
    """A tuple where larger is better: the primary score, then each tie-break metric."""

    def oriented(value, greater: bool) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return -math.inf
        return float(value) if greater else -float(value)

    key = [oriented(score, scorer.greater_is_better)]
    key += [oriented(metrics.get(name), metric_greater_is_better(scorer, name)) for name in tie_breaks]
    return tuple(key)


def _candidates(phase: Phase) -> list[_Candidate]:
    rows = SubmissionScore.objects.filter(
        submission__phase=phase, submission__status=SubmissionStatus.SCORED,
        submission__disqualified_at__isnull=True,
    ).values_list(
        "submission_id", "split", "score", "metrics", "submission__team_id", "submission__team__name",
        "submission__method_name", "submission__created_at", "submission__is_baseline",
        "submission__is_selected",
    )
    by_submission: dict[int, _Candidate] = {}
    for sid, split, score, metrics, team_id, team_name, method, created, baseline, selected in rows.iterator(
        chunk_size=5000
    ):
        candidate = by_submission.get(sid)
        if candidate is None:
            candidate = by_submission[sid] = _Candidate(
                sid, team_id, team_name or "", method, created, baseline, selected
            )
        candidate.scores[split] = (score, metrics)
    return list(by_submission.values())


def _rank(rows: list[tuple[tuple, _Candidate]]) -> list[tuple[int | None, int, _Candidate]]:
    """Sort best first; teams get competition ranks (equal keys share a rank), baselines none."""
    rows.sort(key=lambda item: (item[0], -item[1].submitted_at.timestamp()), reverse=True)
    ranked = []
    team_position = 0
    previous_key, previous_rank = None, 0
    for position, (key, candidate) in enumerate(rows, start=1):
        rank = None
        if not candidate.is_baseline:
            team_position += 1
            rank = previous_rank if key == previous_key else team_position
            previous_key, previous_rank = key, rank
        ranked.append((rank, position, candidate))
    return ranked


@transaction.atomic
def leaderboard_refresh(*, phase_id: int) -> dict[str, int]:
    """Recompute and store both boards of a phase. Returns the number of rows per split."""
    # The row lock serialises refreshes of one phase, so concurrent scorings cannot interleave.
    phase = Phase.objects.select_for_update().select_related("track").get(pk=phase_id)
    track = phase.track
    scorer = scorers.get_scorer(track.scorer_key)
    tie_breaks = list(track.tie_break_metrics or [])

    def key_for(candidate: _Candidate, split: str):
        score, metrics = candidate.scores[split]
        return _sort_key(score, metrics, scorer=scorer, tie_breaks=tie_breaks)

    candidates = [c for c in _candidates(phase) if ScoreSplit.PUBLIC in c.scores]
    counts: dict[int, int] = defaultdict(int)
    best_public: dict[int, _Candidate] = {}
    selected: dict[int, list[_Candidate]] = defaultdict(list)
    baselines = []
    for candidate in candidates:
        if candidate.is_baseline:
            baselines.append(candidate)
            continue
        counts[candidate.team_id] += 1
        current = best_public.get(candidate.team_id)
        if current is None or (key_for(candidate, "public"), candidate.submitted_at) > (
            key_for(current, "public"), current.submitted_at
        ):
            best_public[candidate.team_id] = candidate
        if candidate.is_selected and ScoreSplit.PRIVATE in candidate.scores:
            selected[candidate.team_id].append(candidate)

    public_rows = [(key_for(c, "public"), c) for c in [*best_public.values(), *baselines]]
    public_ranked = _rank(public_rows)
    public_rank_of = {c.team_id: rank for rank, _, c in public_ranked if not c.is_baseline}

    private_rows = []
    for team_id, best in best_public.items():
        # The private board uses the team's own choice: its selected entries in "selected"
        # mode, else its best public entry (choosing by private score would leak it).
        pool = selected.get(team_id) if track.leaderboard_mode == LeaderboardMode.SELECTED else None
        pool = pool or ([best] if ScoreSplit.PRIVATE in best.scores else [])
        if pool:
            chosen = max(pool, key=lambda c: key_for(c, "private"))
            private_rows.append((key_for(chosen, "private"), chosen))
    private_rows += [(key_for(c, "private"), c) for c in baselines if ScoreSplit.PRIVATE in c.scores]
    private_ranked = _rank(private_rows)

    LeaderboardEntry.objects.filter(phase=phase).delete()
    entries = []
    for split, ranked in ((ScoreSplit.PUBLIC, public_ranked), (ScoreSplit.PRIVATE, private_ranked)):
        for rank, position, c in ranked:
            score, metrics = c.scores[split]
            entries.append(LeaderboardEntry(
                phase=phase, split=split, submission_id=c.submission_id, team_id=c.team_id,
                is_baseline=c.is_baseline, rank=rank, position=position, score=score, metrics=metrics,
                public_rank=public_rank_of.get(c.team_id) if split == ScoreSplit.PRIVATE else None,
                team_name=c.team_name, method_name=c.method_name, submitted_at=c.submitted_at,
                entries_count=counts.get(c.team_id, 1),
            ))
    LeaderboardEntry.objects.bulk_create(entries, batch_size=1000)
    metric_names = list(scorer.metric_names)
    for split in (ScoreSplit.PUBLIC, ScoreSplit.PRIVATE):
        rows = [e for e in entries if e.split == split]
        LeaderboardSnapshot.objects.update_or_create(
            phase=phase, split=split,
            defaults={"entries_json": leaderboard_json(rows), "rows": len(rows),
                      "csv": leaderboard_csv(rows, metric_names=metric_names, split=split)},
        )
    return {"public": len(public_ranked), "private": len(private_ranked)}
