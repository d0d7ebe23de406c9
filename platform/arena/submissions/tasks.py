"""Celery tasks of the submission pipeline: thin wrappers that take ids and call one service.

Each message carries the submission's claim token; a message whose token is no longer current
(a duplicate, a redelivery, a re-send by the outbox) finds nothing to claim and ends at once.
Database faults hand the work back to the queue inside the services, and a message lost with a
task that raised is re-sent by the outbox, so no task retries on its own but the sandbox wait.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from django.conf import settings

from arena.submissions.services.misconfiguration import misconfigured_submissions_check
from arena.submissions.services.queueing import submissions_dispatch_pending
from arena.submissions.services.reconcile import submissions_reconcile
from arena.submissions.services.sandbox_run import (
    EngineUnavailable,
    submission_fail_no_sandbox,
    submission_run_container,
)
from arena.submissions.services.scoring import submission_score


def _token(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def score_submission(submission_id: int, token: str | None = None) -> str:
    return submission_score(submission_id=submission_id, token=_token(token))


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def reconcile_submissions() -> dict[str, int]:
    return submissions_reconcile()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def dispatch_submissions() -> dict[str, int]:
    return submissions_dispatch_pending()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def handle_misconfigured_submissions() -> dict[str, int]:
    """Send the due summaries of failures on a phase's configuration; re-queue those of phases ready again."""
    return misconfigured_submissions_check()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    # The sandbox enforces the track's own wall-clock limit; this outer guard adds loading and scoring.
    soft_time_limit=settings.ARENA_CONTAINER_TASK_SECONDS,
    time_limit=settings.ARENA_CONTAINER_TASK_SECONDS + 120,
)
def run_container_submission(self, submission_id: int, token: str | None = None) -> str:
    try:
        return submission_run_container(submission_id=submission_id, token=_token(token))
    except EngineUnavailable as exc:
        if self.request.retries >= self.max_retries:
            return submission_fail_no_sandbox(submission_id=submission_id)
        raise self.retry(exc=exc, countdown=min(120, 5 * 2 ** self.request.retries)) from None
