"""Reading leaderboards as a given person may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from arena.challenges.models import Phase
from arena.challenges.permissions import is_organiser
from arena.core.errors import PermissionDenied
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from arena.submissions.models import ScoreSplit


def leaderboard_visible_splits(phase: Phase, user) -> list[str]:
    splits = [ScoreSplit.PUBLIC.value]
    if phase.private_revealed_at is not None or is_organiser(user, phase.track.challenge):
        splits.append(ScoreSplit.PRIVATE.value)
    return splits


def leaderboard_snapshot(*, phase: Phase, split: str, user, with_csv: bool = False) -> LeaderboardSnapshot | None:
    """Row count, refresh time and (``with_csv``) the CSV of one board; None before its first refresh.

    Same visibility rules as ``leaderboard_for_phase``.
    """
    leaderboard_for_phase(phase=phase, split=split, user=user)  # raises when the board is hidden
    snapshots = LeaderboardSnapshot.objects.filter(phase=phase, split=split)
    return (snapshots if with_csv else snapshots.defer("csv")).first()


def leaderboard_for_phase(*, phase: Phase, split: str, user) -> QuerySet[LeaderboardEntry]:
    """The stored rows of one board, best first. The private board needs a reveal (or an organiser)."""
    if split not in ScoreSplit.values:
        raise PermissionDenied(f"Unknown leaderboard split '{split}'; use public or private.", code="invalid",
                               status=400)
    if split not in leaderboard_visible_splits(phase, user):
        raise PermissionDenied(
            "The private leaderboard of this phase is hidden until the organisers reveal it.",
            code="private_hidden",
        )
    return LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position")
