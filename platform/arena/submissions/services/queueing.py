"""Dispatching submissions to their queue: an outbox in the submission rows.

A submission moves to ``queued`` inside the caller's transaction and is sent after the commit.
When the broker does not answer, the row simply stays undispatched and the caller's answer is
unaffected; the periodic dispatcher sends it as soon as the broker answers again. A message
the broker lost (its data, or a worker killed with the message in hand) is re-sent when no
worker has claimed the submission some time after it was sent, with growing intervals so a
long queue before a deadline is not flooded with copies. Copies are harmless: each carries
the claim token of the submission's current turn, and only one message can claim it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

import kombu.exceptions
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from arena.challenges.models import SubmissionKind
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle

log = logging.getLogger(__name__)

#: What a broker that is down or unreachable raises when a task is sent.
BROKER_ERRORS = (kombu.exceptions.OperationalError, kombu.exceptions.ConnectionError, OSError)
#: A send attempt gives up quickly: the outbox sends again later, and a web request must not hang.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
#: Undispatched rows younger than this are left to the send that follows their commit.
SETTLE_SECONDS = 5
#: Re-sends of one waiting submission back off up to this multiple of ARENA_REDISPATCH_SECONDS.
MAX_BACKOFF = 16
#: The tasks, by name (arena.submissions.tasks imports the services, not the other way round).
SCORE_TASK = "arena.submissions.tasks.score_submission"
CONTAINER_TASK = "arena.submissions.tasks.run_container_submission"


def submission_enqueue(
    *, submission: Submission, sources: Iterable[str] = (SubmissionStatus.SUBMITTED,),
    token=lifecycle.UNGUARDED,
) -> bool:
    """Move the submission to queued (from ``sources``; with ``token``, only while it is still held with
    that token) and send its task once the transaction commits."""
    new_token = lifecycle.submission_mark_queued(submission_id=submission.pk, sources=sources, token=token)
    if new_token is None:
        return False
    submission_id, kind, queue = submission.pk, submission.kind, queue_for(submission)
    transaction.on_commit(lambda: submission_dispatch(
        submission_id=submission_id, token=new_token, kind=kind, queue=queue))
    return True


def queue_for(submission: Submission) -> str:
    """The queue a submission's work goes to: scoring, or a sandbox host (with GPUs if the track asks)."""
    if submission.kind != SubmissionKind.CONTAINER:
        return "score"
    return "sandbox-gpu" if submission.phase.track.container_gpus > 0 else "sandbox"


def submission_dispatch(*, submission_id: int, token: uuid.UUID | None, kind: str, queue: str) -> bool:
    """Send the task of one queued submission; False (and the row stays dispatchable) if the broker fails."""
    task = CONTAINER_TASK if kind == SubmissionKind.CONTAINER else SCORE_TASK
    try:
        current_app.send_task(task, args=[submission_id, str(token) if token else ""], queue=queue, retry=True,
                              retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        log.warning("broker unavailable, submission %s stays in the outbox: %s", submission_id, exc)
        return False
    Submission.objects.filter(pk=submission_id, status=SubmissionStatus.QUEUED, claim_token=token).update(
        dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1)
    return True


def submission_dispatch_now(*, submission_id: int, token: uuid.UUID) -> bool:
    """Send a submission that was just handed back to the queue (outside any transaction)."""
    submission = Submission.objects.select_related("phase__track").get(pk=submission_id)
    return submission_dispatch(submission_id=submission_id, token=token, kind=submission.kind,
                               queue=queue_for(submission))


def submissions_dispatch_pending(*, now=None, limit: int = 1000) -> dict[str, int]:
    """Send what the outbox holds: queued submissions never sent, and those sent but not claimed for a
    while (their message was lost). Stops at the first broker failure."""
    now = now or timezone.now()
    first_resend = timedelta(seconds=settings.ARENA_REDISPATCH_SECONDS)
    waiting = Submission.objects.filter(status=SubmissionStatus.QUEUED).filter(
        Q(dispatched_at__isnull=True, queued_at__lt=now - timedelta(seconds=SETTLE_SECONDS))
        | Q(dispatched_at__lt=now - first_resend)
    ).select_related("phase__track").order_by("queued_at", "pk")
    sent = resent = 0
    for submission in waiting[:limit]:
        if submission.dispatched_at is not None:
            backoff = first_resend * min(MAX_BACKOFF, 2 ** max(0, submission.dispatch_count - 1))
            if submission.dispatched_at >= now - backoff:
                continue
        if not submission_dispatch(submission_id=submission.pk, token=submission.claim_token,
                                   kind=submission.kind, queue=queue_for(submission)):
            break
        if submission.dispatched_at is None:
            sent += 1
        else:
            resent += 1
    if sent or resent:
        log.info("dispatcher: sent %d waiting and re-sent %d unclaimed submissions", sent, resent)
    return {"sent": sent, "resent": resent}
