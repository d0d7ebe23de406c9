"""Organiser and participant actions on submissions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from arena.audit.services import audit_record
from arena.challenges.permissions import ensure_organiser
from arena.submissions.models import IN_FLIGHT_STATUSES, Submission, SubmissionScore
from arena.submissions.services import lifecycle
from arena.submissions.services.queueing import submission_enqueue


@transaction.atomic
def submission_rerun(*, actor, submissions: QuerySet[Submission] | list[Submission]) -> int:
    """Score the given submissions again (e.g. after a reference fix). Returns how many were queued."""
    count = 0
    for submission in submissions:
        ensure_organiser(actor, submission.phase.track.challenge)
        SubmissionScore.objects.filter(submission=submission).delete()
        Submission.objects.filter(pk=submission.pk).update(attempts=0)
        if submission_enqueue(submission=submission, sources=lifecycle.ANY_STATE):
            count += 1
            audit_record(
                actor=actor, action="submission.rerun", target=submission,
                challenge=submission.phase.track.challenge,
            )
    return count


@transaction.atomic
def submission_cancel(*, actor, submissions: QuerySet[Submission] | list[Submission]) -> int:
    """Cancel submissions still in flight. Finished ones are left alone. Returns how many changed."""
    count = 0
    for submission in submissions:
        ensure_organiser(actor, submission.phase.track.challenge)
        if submission.status not in IN_FLIGHT_STATUSES:
            continue
        if lifecycle.submission_mark_cancelled(
            submission_id=submission.pk, message="Cancelled by the organisers."
        ):
            count += 1
            audit_record(
                actor=actor, action="submission.cancel", target=submission,
                challenge=submission.phase.track.challenge,
            )
    return count
