"""Reads of submissions as a given person may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_organised_by
from arena.challenges.visibility import visible_score_splits
from arena.factsheets.models import Answer
from arena.submissions.models import COUNTED_STATUSES, IN_FLIGHT_STATUSES, Submission, SubmissionScore


def submissions_of_user(*, user, phase=None) -> QuerySet[Submission]:
    """Submissions of every team the user belongs to, newest first, with their phase, track,
    challenge, team and scores read in the same few queries however many there are."""
    qs = Submission.objects.filter(team__memberships__user=user).select_related(
        "phase__track__challenge", "team").prefetch_related(
        "scores", Prefetch("answers", queryset=Answer.objects.select_related("question")))
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
    """The scores the phase's board rule lets ``user`` see (``arena.challenges.visibility``): public ones
    unless the board is hidden, private ones after the reveal; organisers see all.

    ``organiser`` is whether ``user`` organises the submission's challenge, when the caller
    already knows (see ``organised_challenge_ids``); otherwise it is looked up.
    """
    splits = visible_score_splits(submission.phase, organiser=_organises(submission, user, organiser))
    return {s.split: s for s in submission.scores.all() if s.split in splits}


def submission_visible_logs(submission: Submission, user, *, organiser: bool | None = None) -> str | None:
    """Logs are shown to organisers, and to the team when the track allows it (they can leak data).
    ``organiser`` as for ``submission_visible_scores``."""
    if _organises(submission, user, organiser):
        return submission.logs
    return submission.logs if submission.phase.track.show_container_logs else None


def _organises(submission: Submission, user, organiser: bool | None) -> bool:
    return is_organiser(user, submission.phase.track.challenge) if organiser is None else organiser


@dataclass(frozen=True)
class LimitUse:
    """One of a team's limits in a phase: how much is allowed and used (None: no limit)."""

    limit: str  # "total", "per_day" or "in_flight"
    allowed: int | None
    used: int
    resets_at: datetime | None = None

    @property
    def left(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - self.used)

    def describe(self) -> str:
        """In the participant's words, e.g. "3 of 5 left today (resets 00:00 UTC)"."""
        if self.allowed is None:
            return {"total": "no limit in total", "per_day": "no daily limit",
                    "in_flight": "no limit on entries being scored"}[self.limit]
        if self.limit == "per_day":
            return f"{self.left} of {self.allowed} left today (resets {self.resets_at:%H:%M} UTC)"
        if self.limit == "total":
            return f"{self.left} of {self.allowed} left in total"
        return f"{self.used} of at most {self.allowed} being scored"


def submission_limits_of(*, team, phase, now: datetime | None = None) -> list[LimitUse]:
    """The team's use of the phase's limits (each the phase's own, else the track's), in the order they
    are checked: total, per day (UTC), in flight. Failed and cancelled submissions do not count."""
    now = now or timezone.now()
    counted = Submission.objects.filter(team=team, phase=phase, status__in=COUNTED_STATUSES)
    midnight = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    used = counted.aggregate(
        total=Count("pk"), per_day=Count("pk", filter=Q(created_at__gte=midnight)),
        in_flight=Count("pk", filter=Q(status__in=IN_FLIGHT_STATUSES)))
    return [
        LimitUse("total", phase.limit("max_total"), used["total"]),
        LimitUse("per_day", phase.limit("max_per_day"), used["per_day"], resets_at=midnight + timedelta(days=1)),
        LimitUse("in_flight", phase.limit("max_in_flight"), used["in_flight"]),
    ]
