"""Reads of submissions as a given person may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_organised_by
from arena.submissions.models import Submission, SubmissionScore


def submissions_of_user(*, user, phase=None) -> QuerySet[Submission]:
    """Submissions of every team the user belongs to, newest first, with their phase, track,
    challenge, team and scores read in the same few queries however many there are."""
    qs = Submission.objects.filter(team__memberships__user=user).select_related(
        "phase__track__challenge", "team").prefetch_related("scores")
    if phase is not None:
        qs = qs.filter(phase=phase)
    return qs.order_by("-created_at", "-id")


def organised_challenge_ids(user) -> frozenset[int]:
    """The ids of the challenges ``user`` organises, in one query: ``is_organiser`` for a whole
    list of submissions at once (every challenge for a superuser, none when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(challenges_organised_by(user).values_list("pk", flat=True))


def submission_visible_scores(submission: Submission, user, *, organiser: bool | None = None,
                              ) -> dict[str, SubmissionScore]:
    """Public scores always; private ones after the reveal, or for organisers.

    ``organiser`` is whether ``user`` organises the submission's challenge, when the caller
    already knows (see ``organised_challenge_ids``); otherwise it is looked up.
    """
    phase = submission.phase
    show_private = phase.private_revealed_at is not None or _organises(submission, user, organiser)
    return {s.split: s for s in submission.scores.all() if s.split == "public" or show_private}


def submission_visible_logs(submission: Submission, user, *, organiser: bool | None = None) -> str | None:
    """Logs are shown to organisers, and to the team when the track allows it (they can leak data).
    ``organiser`` as for ``submission_visible_scores``."""
    if _organises(submission, user, organiser):
        return submission.logs
    return submission.logs if submission.phase.track.show_container_logs else None


def _organises(submission: Submission, user, organiser: bool | None) -> bool:
    return is_organiser(user, submission.phase.track.challenge) if organiser is None else organiser
