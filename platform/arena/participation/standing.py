"""Where a participant stands, and the next step to take: the one reading of the eligibility rules
for the dashboard (``/me/``, ``GET /api/v1/me``, ``arena me``) and the phase page's form.

It judges nothing itself: eligibility is ``data_access(action="submit")``, the phase's window and
limits are ``arena.submissions.services.intake``'s; this module turns their refusals into a state
a script can test, a short instruction and the page where to act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from arena.challenges.models import Challenge, Phase
from arena.core.errors import DomainError
from arena.datasets.selectors import datasets_for
from arena.participation.selectors import DataAccess, data_access, datasets_with_licence_standing
from arena.submissions.selectors import LimitUse, submission_limits_of, submissions_of_user
from arena.submissions.services.intake import submission_quota_refusal, submission_window_refusal
from arena.submissions.services.refusals import submission_refusal_brake
from arena.teams.models import Team
from arena.tokens.selectors import memberships_of

#: The states, in the order a team meets them.
SIGN_IN = "sign_in"
NO_TEAM = "no_team"
REVOKED = "revoked"
DENIED = "denied"
NO_LICENCE = "no_licence"
ACCEPT_LICENCE = "accept_licence"
UPLOAD_AGREEMENT = "upload_agreement"
AWAITING_APPROVAL = "awaiting_approval"
NO_PHASE = "no_phase"
PHASE_NOT_OPEN = "phase_not_open"
PHASE_CLOSED = "phase_closed"
LIMIT_REACHED = "limit_reached"
READY = "ready"
#: A dataset's own licence still needs a step before its files can be downloaded (submitting does not wait).
DATASET_LICENCE = "dataset_licence"

#: How many of the person's submissions the dashboard lists.
RECENT_SUBMISSIONS = 20


@dataclass(frozen=True)
class NextStep:
    """One state: ``text`` says what to do next in a line, ``url`` where, ``detail`` why (the rule's own words)."""

    state: str
    text: str
    url: str = ""
    detail: str = ""

    @property
    def can_submit(self) -> bool:
        return self.state == READY


@dataclass(frozen=True)
class PhaseStanding:
    """A team in one phase: whether it may submit now, and its use of the phase's limits."""

    phase: Phase
    step: NextStep
    limits: list[LimitUse] = field(default_factory=list)

    @property
    def url(self) -> str:
        return phase_url(self.phase)


@dataclass(frozen=True)
class TeamStanding:
    """A team of the person: its next step, its open phases, and what its datasets' own licences still need."""

    challenge: Challenge
    team: Team
    role: str
    next_step: NextStep
    open_phases: list[PhaseStanding]
    dataset_steps: list[NextStep]


@dataclass(frozen=True)
class Dashboard:
    teams: list[TeamStanding]
    #: The person's newest submissions across challenges (``RECENT_SUBMISSIONS``).
    submissions: list[Any]


def phase_url(phase: Phase) -> str:
    return reverse("phase-page", args=[phase.track.challenge.slug, phase.track.slug, phase.slug])


def _eligibility_step(access: DataAccess) -> NextStep | None:
    """The step the challenge's rules (team, approval, licence, agreement) still ask for; None when none."""
    challenge, refusal = access.challenge, access.refusal
    if refusal is None:
        if access.team is None:  # an organiser without a team of their own
            return NextStep(NO_TEAM, "Create or join a team.", reverse("team-page", args=[challenge.slug]))
        return None
    licence_page = reverse("licence-page", args=[challenge.slug])
    code, why = refusal.code, refusal.message
    if code == "not_authenticated":
        return NextStep(SIGN_IN, "Sign in to submit.", reverse("login"))
    if code == "not_in_team":
        return NextStep(NO_TEAM, "Create or join a team.", reverse("team-page", args=[challenge.slug]), why)
    if code == "participation_revoked":
        return NextStep(REVOKED, "Access revoked by the organisers.", "", why)
    if code == "participation_denied":
        return NextStep(DENIED, "Not approved by the organisers.", "", why)
    if code == "no_licence":
        return NextStep(NO_LICENCE, "Wait for the organisers to publish the licence.", "", why)
    if code == "licence_not_accepted":
        return NextStep(ACCEPT_LICENCE, f"Accept the licence (version {access.licence.version}).", licence_page, why)
    if code == "agreement_missing":
        return NextStep(UPLOAD_AGREEMENT, "Upload the signed agreement.", licence_page, why)
    if code == "approval_pending":
        return NextStep(AWAITING_APPROVAL, "Awaiting the organisers' approval.", "", why)
    # A refusal this module does not know yet: its own words are the step.
    return NextStep(code, why)


def _phase_step(team: Team, phase: Phase, now: datetime) -> PhaseStanding:
    """For an eligible team: whether ``phase`` is open and has room for one more submission."""
    window = submission_window_refusal(phase=phase, now=now)
    if window is not None:
        return PhaseStanding(phase, NextStep(window.code, window.message))
    limits = submission_limits_of(team=team, phase=phase, now=now)
    refusal: DomainError | None = submission_quota_refusal(limits=limits)
    if refusal is None:
        try:
            submission_refusal_brake(team=team, phase=phase, now=now)
        except DomainError as exc:
            refusal = exc
    if refusal is not None:
        return PhaseStanding(phase, NextStep(LIMIT_REACHED, refusal.message), limits)
    return PhaseStanding(phase, NextStep(READY, "Ready to submit.", phase_url(phase)), limits)


def phase_standing(*, user, phase: Phase, now: datetime | None = None) -> PhaseStanding:
    """Whether ``user`` may submit to ``phase`` now and, if not, why and what to do (the phase page's rule)."""
    now = now or timezone.now()
    access = data_access(user, phase.track.challenge, action="submit")
    step = _eligibility_step(access)
    if step is not None:
        return PhaseStanding(phase, step)
    return _phase_step(access.team, phase, now)


def _team_step(phases: list[Phase], standings: list[PhaseStanding], now: datetime) -> NextStep:
    """The team's one next step once the challenge's rules are met: submit to an open phase, else wait."""
    if not phases:
        return NextStep(NO_PHASE, "Wait for the organisers to open a phase.")
    ready = [s for s in standings if s.step.can_submit]
    if ready:
        return ready[0].step
    if standings:  # open, but every limit is used up
        return standings[0].step
    upcoming = sorted((p for p in phases if p.opens_at > now), key=lambda p: p.opens_at)
    if upcoming:
        return NextStep(PHASE_NOT_OPEN, submission_window_refusal(phase=upcoming[0], now=now).message,
                        phase_url(upcoming[0]))
    last = max(phases, key=lambda p: p.closes_at)
    return NextStep(PHASE_CLOSED, submission_window_refusal(phase=last, now=now).message, phase_url(last))


def _dataset_steps(access: DataAccess, challenge: Challenge, user) -> list[NextStep]:
    steps = []
    for dataset in datasets_with_licence_standing(access, list(datasets_for(challenge, user))):
        refusal = dataset.licence_standing.refusal
        if refusal is not None:
            steps.append(NextStep(DATASET_LICENCE, refusal.message,
                                  reverse("dataset-licence-page", args=[challenge.slug, dataset.slug])))
    return steps


def team_standing(*, user, challenge: Challenge, team: Team, role: str = "",
                  now: datetime | None = None) -> TeamStanding:
    """``user``'s team in ``challenge``: its next step, each open phase with its limits, its datasets' licences."""
    now = now or timezone.now()
    access = data_access(user, challenge, action="submit")
    phases = list(Phase.objects.filter(track__challenge=challenge).select_related("track__challenge")
                  .order_by("track__order", "track__slug", "order", "opens_at"))
    step = _eligibility_step(access)
    open_phases = [p for p in phases if p.opens_at <= now < p.closes_at]
    if step is None:
        standings = [_phase_step(team, phase, now) for phase in open_phases]
        step = _team_step(phases, standings, now)
    else:
        standings = [PhaseStanding(phase, step) for phase in open_phases]
    return TeamStanding(challenge=challenge, team=team, role=role, next_step=step, open_phases=standings,
                        dataset_steps=_dataset_steps(access, challenge, user) if access.team is not None else [])


def participant_dashboard(*, user, now: datetime | None = None) -> Dashboard:
    """Everything ``/me/`` shows: each of the user's teams with its standing, and their newest submissions."""
    now = now or timezone.now()
    teams = [team_standing(user=user, challenge=m.challenge, team=m.team, role=m.role, now=now)
             for m in memberships_of(user)]
    return Dashboard(teams=teams, submissions=list(submissions_of_user(user=user)[:RECENT_SUBMISSIONS]))
