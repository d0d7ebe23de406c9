"""The periodic sweep that guarantees no submission stays stuck."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.queueing import submission_enqueue

log = logging.getLogger(__name__)

GAVE_UP_MESSAGE = (
    "Scoring did not complete after {attempts} attempts, so it was stopped. "
    "This does not count against your limits; please submit again, and contact the "
    "organisers if it happens twice."
)


def submissions_reconcile(*, now=None) -> dict[str, int]:
    """Re-queue or fail every in-flight submission without progress past the deadline."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.ARENA_SCORING_DEADLINE_SECONDS)
    stale = Submission.objects.filter(
        status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.QUEUED, SubmissionStatus.RUNNING,
                    SubmissionStatus.SCORING],
        status_changed_at__lt=deadline,
    ).select_related("phase__track").only(
        "pk", "status", "attempts", "kind", "status_changed_at", "phase__track__container_wall_seconds",
        "phase__track__container_gpus")
    requeued = failed = 0
    for submission in stale.iterator():
        if submission.status == SubmissionStatus.RUNNING:
            # A model may legitimately run for its whole wall-clock limit.
            allowed = timedelta(seconds=submission.phase.track.container_wall_seconds)
            if submission.status_changed_at >= deadline - allowed:
                continue
        with transaction.atomic():
            if submission.attempts >= settings.ARENA_MAX_ATTEMPTS:
                if lifecycle.submission_mark_failed(
                    submission_id=submission.pk,
                    message=GAVE_UP_MESSAGE.format(attempts=submission.attempts),
                    detail="reconciler: attempt cap reached", sources=[submission.status],
                ):
                    failed += 1
                continue
            # Only the exact state we saw is moved, so a worker that just progressed wins.
            if submission_enqueue(submission=submission, sources=[submission.status]):
                requeued += 1
    if requeued or failed:
        log.warning("reconciler: requeued %d, failed %d stale submissions", requeued, failed)
    return {"requeued": requeued, "failed": failed}
