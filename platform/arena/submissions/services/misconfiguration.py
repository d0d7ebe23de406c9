"""Submissions that fail on their phase's configuration are the organisers' problem: they get one summary
e-mail per phase and hour, and the submissions are queued again by themselves once the phase is ready."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Phase
from arena.challenges.readiness import Readiness, phase_readiness
from arena.submissions.models import FailureCause, MisconfigurationAlert, Submission, SubmissionStatus
from arena.submissions.services.notify import notify_organisers_of_misconfiguration
from arena.submissions.services.queueing import submission_enqueue

log = logging.getLogger(__name__)


def _alert_period() -> timedelta:
    return timedelta(seconds=settings.ARENA_MISCONFIGURATION_ALERT_SECONDS)


def misconfiguration_alert_record(*, submission_id: int, detail: str) -> bool:
    """Count a failure caused by the configuration: alert the organisers at once when they were not alerted
    for the phase in the last hour, else keep it for the next summary (``misconfiguration_alerts_send``).
    Call inside the failing transaction. True when an e-mail goes out now."""
    phase_id = Submission.objects.values_list("phase_id", flat=True).get(pk=submission_id)
    now = timezone.now()
    with transaction.atomic():
        MisconfigurationAlert.objects.get_or_create(phase_id=phase_id)
        alert = MisconfigurationAlert.objects.select_for_update().get(phase_id=phase_id)
        ids = [*alert.pending_submission_ids, submission_id]
        first_detail = alert.pending_detail if alert.pending_count else detail
        if alert.sent_at is not None and alert.sent_at > now - _alert_period():
            MisconfigurationAlert.objects.filter(pk=alert.pk).update(
                pending_count=len(ids), pending_submission_ids=ids, pending_detail=first_detail)
            return False
        _send(alert, ids, first_detail, now)
    return True


def misconfiguration_alerts_send(*, now=None) -> int:
    """Send the summaries that are due: phases with failures kept since an alert that is an hour old.
    Returns how many e-mails went out."""
    now = now or timezone.now()
    sent = 0
    due = MisconfigurationAlert.objects.filter(pending_count__gt=0, sent_at__lte=now - _alert_period())
    for alert_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            alert = MisconfigurationAlert.objects.select_for_update().get(pk=alert_id)
            if alert.pending_count and alert.sent_at is not None and alert.sent_at <= now - _alert_period():
                _send(alert, alert.pending_submission_ids, alert.pending_detail, now)
                sent += 1
    return sent


def _send(alert: MisconfigurationAlert, submission_ids: list[int], detail: str, now) -> None:
    phase = Phase.objects.select_related("track__challenge").get(pk=alert.phase_id)
    notify_organisers_of_misconfiguration(phase=phase, submission_ids=submission_ids, detail=detail)
    MisconfigurationAlert.objects.filter(pk=alert.pk).update(
        sent_at=now, pending_count=0, pending_submission_ids=[], pending_detail="")


def submissions_requeue_misconfigured(*, phase: Phase, actor=None, readiness: Readiness | None = None) -> int:
    """Queue again the phase's submissions that failed on its configuration, once its readiness check
    passes (``readiness``: the check already made of the phase as saved); ``actor`` is the organiser whose
    change made it ready (None for the periodic check). Returns how many were queued; an audit entry
    lists them."""
    failed = Submission.objects.filter(phase=phase, status=SubmissionStatus.FAILED,
                                       failure_cause=FailureCause.CONFIGURATION)
    if not failed.exists():
        return 0  # the common case: no readiness check (and no scoring of references) needed
    if not (readiness or phase_readiness(phase)).ready:
        return 0
    queued = []
    with transaction.atomic():
        for submission in failed.select_related("phase__track").order_by("pk"):
            Submission.objects.filter(pk=submission.pk).update(attempts=0)
            if submission_enqueue(submission=submission, sources=[SubmissionStatus.FAILED]):
                queued.append(submission.pk)
        if queued:
            MisconfigurationAlert.objects.filter(phase=phase).update(
                pending_count=0, pending_submission_ids=[], pending_detail="")
            audit_record(actor=actor, action="submission.requeue_misconfigured", target=phase,
                         challenge=phase.track.challenge, details={"submissions": queued})
    if queued:
        log.info("phase %s is ready again: re-queued %d submission(s)", phase.pk, len(queued))
    return len(queued)


def submissions_requeue_all_misconfigured() -> int:
    """The periodic check: every phase with submissions failed on its configuration that is ready now."""
    phase_ids = (Submission.objects.filter(status=SubmissionStatus.FAILED, failure_cause=FailureCause.CONFIGURATION)
                 .values_list("phase_id", flat=True).distinct())
    total = 0
    for phase in Phase.objects.filter(pk__in=list(phase_ids)).select_related("track__challenge"):
        total += submissions_requeue_misconfigured(phase=phase)
    return total


def misconfigured_submissions_check() -> dict[str, int]:
    """The periodic work: send the summaries that are due, and re-queue the failures of phases ready again."""
    return {"alerts": misconfiguration_alerts_send(), "requeued": submissions_requeue_all_misconfigured()}
