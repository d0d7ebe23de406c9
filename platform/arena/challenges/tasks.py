"""Celery tasks of challenges: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task

from arena.challenges.media import phase_media_check
from arena.challenges.services import phases_reveal_closed


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def reveal_closed_phases() -> int:
    return phases_reveal_closed()


# Reads a whole input archive: the site's time limits apply. Safe twice (a stored report is kept).
@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_container_inputs_media(phase_id: int) -> None:
    phase_media_check(phase_id=phase_id)
