"""Celery tasks of the submission pipeline: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from arena.submissions.services.reconcile import submissions_reconcile
from arena.submissions.services.sandbox_run import (
    EngineUnavailable,
    submission_fail_no_sandbox,
    submission_run_container,
)
from arena.submissions.services.scoring import submission_score

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def score_submission(submission_id: int) -> str:
    return submission_score(submission_id=submission_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def reconcile_submissions() -> dict[str, int]:
    return submissions_reconcile()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    # The sandbox enforces the track's own wall-clock limit; this is the outer guard.
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 120,
)
def run_container_submission(self, submission_id: int) -> str:
    try:
        return submission_run_container(submission_id=submission_id)
    except EngineUnavailable as exc:
        if self.request.retries >= self.max_retries:
            return submission_fail_no_sandbox(submission_id=submission_id)
        raise self.retry(exc=exc, countdown=min(120, 5 * 2 ** self.request.retries)) from None
