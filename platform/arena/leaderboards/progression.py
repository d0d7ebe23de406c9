"""The top-10 progression of a board: how the best score of each of its current top-10 teams grew over
the phase. Computed from the scored submissions in one query, once per board refresh (cached by the
board's refresh time), so a page read never does more than a cache lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from arena.challenges.models import Phase
from arena.challenges.visibility import FROZEN, PUBLIC
from arena.leaderboards.models import LeaderboardEntry
from arena.submissions.models import SubmissionScore, SubmissionStatus

TOP = 10
#: Bump when the cached value's shape changes.
_VERSION = 1


@dataclass(frozen=True)
class TeamProgression:
    """One team's running best: ``points`` are (time of the entry that improved it, best score so far)."""

    rank: int
    team_name: str
    points: tuple[tuple[datetime, float], ...]


def progression_compute(*, phase: Phase, board: str, greater_is_better: bool) -> list[TeamProgression]:
    """The current top-10 teams of ``board`` (rank order) with their running best public score: a point each
    time the team improved it. The frozen board counts entries before the freeze only.

    Public and frozen boards only: each point was once the team's entry on the live board. A private board
    has none, since its teams' other private scores (entries that do not count) are never shown.
    """
    if board not in (PUBLIC, FROZEN):
        return []
    top = list(LeaderboardEntry.objects.filter(phase=phase, split=board, is_baseline=False, team__isnull=False)
               .order_by("position").values_list("team_id", "rank", "team_name")[:TOP])
    if not top:
        return []
    scores = SubmissionScore.objects.filter(
        submission__phase=phase, submission__team_id__in=[team_id for team_id, _, _ in top],
        submission__status=SubmissionStatus.SCORED, submission__disqualified_at__isnull=True,
        split=PUBLIC,
    )
    if board == FROZEN and phase.frozen_at is not None:
        scores = scores.filter(submission__created_at__lt=phase.frozen_at)
    best: dict[int, float] = {}
    points: dict[int, list[tuple[datetime, float]]] = {team_id: [] for team_id, _, _ in top}
    for team_id, created, score in scores.order_by("submission__created_at", "submission_id").values_list(
            "submission__team_id", "submission__created_at", "score"):
        previous = best.get(team_id)
        if previous is None or (score > previous if greater_is_better else score < previous):
            best[team_id] = score
            points[team_id].append((created, score))
    return [TeamProgression(rank, name, tuple(points[team_id])) for team_id, rank, name in top]


def leaderboard_progression(*, phase: Phase, board: str, refreshed_at: datetime | None,
                            greater_is_better: bool) -> list[TeamProgression]:
    """``progression_compute`` for the board as last refreshed at ``refreshed_at``; cached until the
    next refresh (a new refresh time is a new key)."""
    if refreshed_at is None:
        return []
    key = f"board-progression:{_VERSION}:{phase.pk}:{board}:{refreshed_at.timestamp()}"
    value = cache.get(key)
    if value is None:
        value = progression_compute(phase=phase, board=board, greater_is_better=greater_is_better)
        cache.set(key, value, timeout=24 * 3600)
    return value
