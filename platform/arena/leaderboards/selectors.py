"""Reading leaderboards as a given person may see them (the rules: ``arena.challenges.visibility``)."""

from __future__ import annotations

from django.db.models import QuerySet

from arena.challenges.models import Phase
from arena.challenges.permissions import is_organiser
from arena.challenges.robustness import Protocol, ProtocolError, phase_protocol
from arena.challenges.visibility import board_to_read, visible_boards
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot


def leaderboard_visible_splits(phase: Phase, user) -> list[str]:
    """The boards ``user`` may open now, by the name they ask for."""
    return list(visible_boards(phase, organiser=is_organiser(user, phase.track.challenge)))


def leaderboard_board(*, phase: Phase, split: str, user) -> str:
    """The stored board ``user`` reads when asking for ``split``; raises when they may not see it."""
    return board_to_read(phase, split, organiser=is_organiser(user, phase.track.challenge))


def leaderboard_snapshot(*, phase: Phase, split: str, user, with_csv: bool = False) -> LeaderboardSnapshot | None:
    """Row count, refresh time and (``with_csv``) the CSV of one board; None before its first refresh.

    Same visibility rules as ``leaderboard_for_phase``.
    """
    board = leaderboard_board(phase=phase, split=split, user=user)
    snapshot = LeaderboardSnapshot.objects.filter(phase=phase, split=board).defer("csv").first()
    if with_csv and snapshot is not None:
        from arena.leaderboards.exports import snapshot_csv  # exports renders with this module's selectors

        snapshot.csv = snapshot_csv(snapshot_id=snapshot.pk)
    return snapshot


def leaderboard_for_phase(*, phase: Phase, split: str, user) -> QuerySet[LeaderboardEntry]:
    """The stored rows of one board, best first; raises when ``user`` may not see it."""
    board = leaderboard_board(phase=phase, split=split, user=user)
    return LeaderboardEntry.objects.filter(phase=phase, split=board).order_by("position")


def leaderboard_protocol(phase: Phase) -> Protocol | None:
    """The phase's robustness protocol, whose conditions are the boards' per-condition columns (in protocol
    order); None without one. A protocol that no longer parses (it is checked on save) shows no columns
    rather than breaking the board."""
    try:
        return phase_protocol(phase)
    except ProtocolError:
        return None


def leaderboard_team_entry(*, phase: Phase, board: str, team) -> dict | None:
    """``{"position", "rank"}`` of ``team``'s row on the stored ``board`` (already checked as readable), or None."""
    return LeaderboardEntry.objects.filter(phase=phase, split=board, team=team).values("position", "rank").first()
