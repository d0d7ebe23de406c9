"""The periodic sweep that guarantees no submission stays stuck.

A worker holds a submission under a lease it renews while it works (``lease.lease_kept``). When
the lease lapses (the worker was killed, lost its host, or hung), the submission is taken back:
queued again with a new claim token, so the old holder, should it wake up, can change nothing;
or failed, through the failure service, once its attempts are used up. Messages the broker lost
before any worker claimed them are the dispatcher's business (``queueing.submissions_dispatch_pending``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arena.audit.services import audit_record
from arena.submissions.models import Submission
from arena.submissions.services.failure import FailureCause, submission_fail
from arena.submissions.services.lifecycle import HELD_STATES
from arena.submissions.services.queueing import submission_enqueue

log = logging.getLogger(__name__)

GAVE_UP_MESSAGE = (
    "Scoring did not complete after {attempts} attempts, so it was stopped. "
    "This does not count against your limits; please submit again, and contact the "
    "organisers if it happens twice."
)


def submissions_reconcile(*, now=None) -> dict[str, int]:
    """Take back every held submission whose lease lapsed: re-queue it, or fail it after its last attempt."""
    now = now or timezone.now()
    # Rows from before leases existed have none: they fall back to the progress deadline.
    legacy = timedelta(seconds=settings.ARENA_SCORING_DEADLINE_SECONDS)
    stale = Submission.objects.filter(status__in=HELD_STATES).filter(
        Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, status_changed_at__lt=now - legacy)
    ).select_related("phase__track__challenge")
    requeued = failed = 0
    for submission in stale.iterator():
        # Only the exact state and holder we saw are moved, so a worker that just renewed or finished wins.
        if submission.attempts >= settings.ARENA_MAX_ATTEMPTS:
            if submission_fail(
                submission_id=submission.pk, message=GAVE_UP_MESSAGE.format(attempts=submission.attempts),
                detail="reconciler: attempt cap reached", cause=FailureCause.PLATFORM,
                sources=[submission.status], token=submission.claim_token,
            ):
                failed += 1
                # Also what /metrics counts (arena.core.metrics.RECONCILER_ACTIONS): workers serve no metrics.
                _audit(submission, "submission_failed_by_reconciler")
            continue
        with transaction.atomic():
            if submission_enqueue(submission=submission, sources=[submission.status], token=submission.claim_token):
                requeued += 1
                _audit(submission, "submission_requeued_by_reconciler")
    if requeued or failed:
        log.warning("reconciler: requeued %d, failed %d submissions whose worker stopped", requeued, failed)
    return {"requeued": requeued, "failed": failed}


def _audit(submission: Submission, action: str) -> None:
    audit_record(actor=None, action=action, target=submission, challenge=submission.phase.track.challenge,
                 details={"status": submission.status, "attempts": submission.attempts})
