"""Celery tasks of challenges: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task

from arena.challenges.services import phases_reveal_closed


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def reveal_closed_phases() -> int:
    return phases_reveal_closed()
