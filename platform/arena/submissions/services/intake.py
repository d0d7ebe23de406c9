"""Taking in a submission, whatever its kind and wherever it comes from (web, API, CLI, direct upload).

Two steps every entry point shares: ``submission_intake_team`` says whether the user's team may
submit to the phase at all (the same eligibility as downloads, plus the phase's window and the
kinds the track takes); ``submission_insert`` checks the team's limits and inserts the row under
a lock, then queues it through the outbox.

Lock order: a transaction that locks several of them takes the phase, then the team, then
submission rows, and every such lock is ``FOR NO KEY UPDATE``, which the foreign-key checks of
concurrent inserts (``FOR KEY SHARE``) never wait for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Phase, SubmissionKind
from arena.core.errors import DomainError, PermissionDenied, QuotaExceeded
from arena.factsheets.services import factsheet_clean, factsheet_save
from arena.participation.selectors import data_access
from arena.submissions.models import Submission
from arena.submissions.selectors import LimitUse, submission_limits_of
from arena.submissions.services.queueing import submission_enqueue
from arena.submissions.services.refusals import submission_refusal_brake
from arena.teams.models import Team


@dataclass(frozen=True)
class MethodInfo:
    """What the team says about its method: shown with the entry; ``answers`` are its fact-sheet answers."""

    name: str
    description: str = ""
    paper_url: str = ""
    code_url: str = ""
    answers: Mapping[str, object] = field(default_factory=dict)

    def as_fields(self) -> dict:
        return dict(method_name=self.name.strip()[:100], method_description=self.description.strip(),
                    paper_url=self.paper_url.strip(), code_url=self.code_url.strip())


@dataclass(frozen=True)
class Intake:
    """A submission that passed every check but the limits: where it goes and for whom."""

    phase: Phase
    team: Team
    idempotency_key: str
    #: The submission an earlier request with the same idempotency key created, if any.
    existing: Submission | None
    #: The fact-sheet answers, checked (``arena.factsheets.services.factsheet_clean``).
    answers: Mapping[str, str] = field(default_factory=dict)


def submission_intake_team(*, user, phase: Phase) -> Team:
    """The team ``user`` submits for in ``phase``, after every rule that is not a limit."""
    challenge = phase.track.challenge
    access = data_access(user, challenge, action="submit")
    if access.refusal is not None:
        raise access.refusal
    if access.team is None:
        raise PermissionDenied(f"Join or create a team for '{challenge.title}' before submitting.",
                               code="not_in_team")
    refusal = submission_window_refusal(phase=phase, now=timezone.now())
    if refusal is not None:
        raise refusal
    return access.team


def submission_window_refusal(*, phase: Phase, now: datetime) -> DomainError | None:
    """Why ``phase`` takes no submission at ``now`` (not open yet, or closed); None while it is open."""
    if now < phase.opens_at:
        return DomainError(f"Phase '{phase.title}' opens on {phase.opens_at:%Y-%m-%d %H:%M} UTC.",
                           code="phase_not_open", status=403)
    if now >= phase.closes_at:
        return DomainError(f"Phase '{phase.title}' closed on {phase.closes_at:%Y-%m-%d %H:%M} UTC.",
                           code="phase_closed", status=403)
    return None


def submission_intake(*, user, phase: Phase, kind: str, method: MethodInfo | None,
                      idempotency_key: str = "") -> Intake:
    """Every check that needs no file: the track takes this kind, the method is named, the team may
    submit; and the submission an earlier request with this idempotency key made, if any."""
    phase = Phase.objects.select_related("track__challenge").get(pk=phase.pk)
    if kind not in phase.track.accepted_kinds:
        raise DomainError(
            "This track takes containerised models, not prediction files." if kind == SubmissionKind.FILE
            else "This track takes prediction files, not containerised models.", code="kind_not_accepted")
    if method is not None and not method.name.strip():
        raise DomainError("Name your method (e.g. 'wav2vec2 + MLP'); it is shown on the leaderboard.",
                          code="invalid", details={"field": "method_name"})
    answers = factsheet_clean(phase, method.answers) if method is not None else {}
    team = submission_intake_team(user=user, phase=phase)
    key = idempotency_key.strip()[:100]
    existing = Submission.objects.filter(team=team, idempotency_key=key).first() if key else None
    if existing is None:
        submission_refusal_brake(team=team, phase=phase)
    return Intake(phase=phase, team=team, idempotency_key=key,
                  existing=_same_request(existing, phase) if existing else None, answers=answers)


def submission_insert(*, user, intake: Intake, row: dict, audit: dict) -> tuple[Submission, bool]:
    """Check the team's limits and insert the submission under a lock on the team; queue it on commit.

    Returns (submission, created): a concurrent request with the same idempotency key that won the
    race is returned instead, and uses no more of the limits.
    """
    phase, team = intake.phase, intake.team
    with transaction.atomic():
        # The lock serialises one team's uploads, so N parallel requests at a limit admit exactly it.
        Team.objects.select_for_update(no_key=True).only("pk").get(pk=team.pk)
        if intake.idempotency_key:
            existing = Submission.objects.filter(team=team, idempotency_key=intake.idempotency_key).first()
            if existing is not None:
                return _same_request(existing, phase), False
        _quota_check(team=team, phase=phase, now=timezone.now())
        submission = Submission.objects.create(
            phase=phase, team=team, submitted_by=user, idempotency_key=intake.idempotency_key, **row)
        factsheet_save(submission=submission, answers=intake.answers)
        submission_enqueue(submission=submission)
        audit_record(actor=user, action="submission.create", target=submission,
                     challenge=phase.track.challenge, details={"phase": phase.pk, "kind": row["kind"], **audit})
    # As stored (queued by the outbox), with what an answer shows of it: one query instead of one per relation.
    return Submission.objects.select_related("phase__track", "team").get(pk=submission.pk), True


def _quota_check(*, team: Team, phase: Phase, now: datetime) -> None:
    """Refuse when one of the phase's limits is used up (see ``submission_limits_of``)."""
    refusal = submission_quota_refusal(limits=submission_limits_of(team=team, phase=phase, now=now))
    if refusal is not None:
        raise refusal


def submission_quota_refusal(*, limits: list[LimitUse]) -> QuotaExceeded | None:
    """The refusal of the first used-up limit among ``limits`` (``submission_limits_of``); None if none is.

    Read-only: the insert checks it again under the team's lock.
    """
    for use in limits:
        if use.allowed is None or use.used < use.allowed:
            continue
        details = {"limit": use.limit, "allowed": use.allowed, "used": use.used}
        if use.limit == "total":
            message = f"Your team has used all {use.allowed} submissions of this phase."
        elif use.limit == "per_day":
            message = (f"Your team has made {use.used} of its {use.allowed} submissions today; "
                       f"the count resets at {use.resets_at:%Y-%m-%d %H:%M} UTC.")
            details["resets_at"] = use.resets_at.isoformat()
        else:
            message = (f"Your team already has {use.used} submission(s) being scored (at most {use.allowed}); "
                       "wait until one finishes.")
        return QuotaExceeded(message, details=details)
    return None


def _same_request(existing: Submission, phase: Phase) -> Submission:
    if existing.phase_id != phase.pk:
        raise DomainError(
            "This Idempotency-Key was already used for a submission to another phase; send a new key.",
            code="idempotency_key_reused", status=409,
        )
    return existing
