"""Celery tasks of the leaderboards: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from arena.leaderboards.services import leaderboard_statistics_refresh


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def refresh_board_statistics(phase_id: int) -> dict[str, int]:
    """Compute the statistics of a phase's boards (queued, coalesced, by ``leaderboard_statistics_request``)."""
    return leaderboard_statistics_refresh(phase_id=phase_id)
