"""Celery task of exports: a thin wrapper that takes the export's id and calls one service."""

from __future__ import annotations

from celery import shared_task

from arena.exports.services import export_build


# The site's time limits apply (CELERY_TASK_SOFT_TIME_LIMIT): the soft one ends a build as failed.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_export(export_id: int) -> str:
    return export_build(export_id=export_id)
