"""Reads of submissions as a given person may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from arena.challenges.permissions import is_organiser
from arena.submissions.models import Submission, SubmissionScore


def submissions_of_user(*, user, phase=None) -> QuerySet[Submission]:
    """Submissions of every team the user belongs to, newest first."""
    qs = Submission.objects.filter(team__memberships__user=user).select_related(
        "phase__track__challenge", "team").prefetch_related("scores")
    if phase is not None:
        qs = qs.filter(phase=phase)
    return qs.order_by("-created_at", "-id")


def submission_visible_scores(submission: Submission, user) -> dict[str, SubmissionScore]:
    """Public scores always; private ones after the reveal, or for organisers."""
    phase = submission.phase
    show_private = phase.private_revealed_at is not None or is_organiser(user, phase.track.challenge)
    return {s.split: s for s in submission.scores.all() if s.split == "public" or show_private}


def submission_visible_logs(submission: Submission, user) -> str | None:
    """Logs are shown to organisers, and to the team when the track allows it (they can leak data)."""
    if is_organiser(user, submission.phase.track.challenge):
        return submission.logs
    return submission.logs if submission.phase.track.show_container_logs else None
