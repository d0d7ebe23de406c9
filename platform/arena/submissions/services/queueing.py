"""Putting submissions on the right queue, always after the surrounding transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from arena.challenges.models import SubmissionKind
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle


def submission_enqueue(
    *, submission: Submission, sources: Iterable[str] = (SubmissionStatus.SUBMITTED,)
) -> bool:
    """Move the submission to queued and send its task once the transaction commits."""
    from arena.submissions.tasks import run_container_submission, score_submission

    if not lifecycle.submission_mark_queued(submission_id=submission.pk, sources=sources):
        return False
    submission_id = submission.pk
    queue = queue_for(submission)
    task = run_container_submission if submission.kind == SubmissionKind.CONTAINER else score_submission
    transaction.on_commit(lambda: task.apply_async(args=[submission_id], queue=queue))
    return True


def queue_for(submission: Submission) -> str:
    """The queue a submission's work goes to: scoring, or a sandbox host (with GPUs if the track asks)."""
    if submission.kind != SubmissionKind.CONTAINER:
        return "score"
    return "sandbox-gpu" if submission.phase.track.container_gpus > 0 else "sandbox"
