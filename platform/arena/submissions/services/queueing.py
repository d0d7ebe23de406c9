"""Putting submissions on the right queue, always after the surrounding transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle


def submission_enqueue(
    *, submission: Submission, sources: Iterable[str] = (SubmissionStatus.SUBMITTED,)
) -> bool:
    """Move the submission to queued and send its task once the transaction commits."""
    from arena.submissions.tasks import score_submission

    if not lifecycle.submission_mark_queued(submission_id=submission.pk, sources=sources):
        return False
    submission_id = submission.pk
    transaction.on_commit(lambda: score_submission.apply_async(args=[submission_id], queue="score"))
    return True
