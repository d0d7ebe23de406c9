"""What a challenge's page shows besides its texts: the timeline of its phases, the next deadline, and
counts of its activity. Callers show these only for a challenge the reader may see; nothing here reveals
a score (counting a hidden-board phase's submissions tells nothing of their scores)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from arena.challenges.models import Challenge
from arena.submissions.models import Submission, SubmissionStatus
from arena.teams.models import Team

PAST, CURRENT, UPCOMING = "past", "current", "upcoming"


@dataclass(frozen=True)
class TimelineStep:
    label: str
    opens_at: datetime
    closes_at: datetime
    state: str  # PAST, CURRENT or UPCOMING


@dataclass(frozen=True)
class Deadline:
    label: str
    at: datetime


@dataclass(frozen=True)
class ChallengeCounts:
    teams: int
    submissions: int
    scored_last_day: int


def challenge_timeline(challenge: Challenge, now: datetime | None = None) -> list[TimelineStep]:
    """Every phase of every track, by opening time; a phase is current while it is open. Reads the
    prefetched ``tracks`` and their ``phases`` when present (``challenge_with_tracks``)."""
    now = now or timezone.now()
    several = len(challenge.tracks.all()) > 1
    steps = []
    for track in challenge.tracks.all():
        for phase in track.phases.all():
            state = PAST if phase.closes_at <= now else CURRENT if phase.opens_at <= now else UPCOMING
            label = f"{track.title}: {phase.title}" if several else phase.title
            steps.append(TimelineStep(label, phase.opens_at, phase.closes_at, state))
    return sorted(steps, key=lambda step: (step.opens_at, step.closes_at, step.label))


def challenge_next_deadline(challenge: Challenge, now: datetime | None = None) -> Deadline | None:
    """The soonest moment still to come that changes what teams can do: a phase opening or closing, the
    entry deadline, the end of the challenge. None once everything is over."""
    now = now or timezone.now()
    moments = []
    for step in challenge_timeline(challenge, now):
        moments += [Deadline(f"{step.label} opens", step.opens_at), Deadline(f"{step.label} closes", step.closes_at)]
    if challenge.entry_deadline is not None:
        moments.append(Deadline("Entry deadline (last moment to form or join a team)", challenge.entry_deadline))
    moments.append(Deadline("The challenge ends", challenge.ends_at))
    upcoming = [moment for moment in moments if moment.at > now]
    return min(upcoming, key=lambda moment: moment.at) if upcoming else None


def challenge_counts(challenge: Challenge, now: datetime | None = None) -> ChallengeCounts:
    """Teams, the teams' submissions (baselines are the organisers'), and those scored in the last 24 hours."""
    now = now or timezone.now()
    submissions = Submission.objects.filter(phase__track__challenge=challenge, is_baseline=False).aggregate(
        total=Count("id"),
        scored_last_day=Count("id", filter=Q(status=SubmissionStatus.SCORED,
                                             finished_at__gt=now - timedelta(hours=24))),
    )
    return ChallengeCounts(teams=Team.objects.filter(challenge=challenge).count(),
                           submissions=submissions["total"], scored_last_day=submissions["scored_last_day"])
