"""Creating a prediction-file submission: who may, what is checked, and the team's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import BinaryIO

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

import scorers
from arena.audit.services import audit_record
from arena.challenges.models import Phase, SubmissionKind
from arena.challenges.selectors import challenge_current_licence
from arena.core.errors import DomainError, NotFound, PermissionDenied, QuotaExceeded
from arena.participation.models import LicenceAcceptance, ParticipationStatus
from arena.submissions.models import COUNTED_STATUSES, IN_FLIGHT_STATUSES, Submission
from arena.submissions.services.queueing import submission_enqueue
from arena.submissions.services.uploads import MB, prepare_prediction
from arena.teams.models import Team, TeamMembership


@dataclass(frozen=True)
class MethodInfo:
    name: str
    description: str = ""
    paper_url: str = ""
    code_url: str = ""


def submission_team_for(*, user, phase: Phase) -> Team:
    """The team ``user`` submits for in ``phase``, after every rule that is not a limit."""
    challenge = phase.track.challenge
    membership = TeamMembership.objects.filter(user=user, challenge=challenge).select_related(
        "team__participation").first()
    if membership is None:
        raise PermissionDenied(
            f"Join or create a team for '{challenge.title}' before submitting.", code="no_team"
        )
    team = membership.team
    participation = getattr(team, "participation", None)
    if participation is None or participation.status != ParticipationStatus.APPROVED:
        state = participation.get_status_display().lower() if participation else "not requested"
        raise PermissionDenied(
            f"Your team's participation is {state}; you can submit once the organisers approve it.",
            code="not_approved",
        )
    licence = challenge_current_licence(challenge)
    if licence and not LicenceAcceptance.objects.filter(team=team, licence=licence).exists():
        raise PermissionDenied(
            f"Accept the licence '{licence.title}' (version {licence.version}) for your team before submitting.",
            code="licence_not_accepted",
        )
    now = timezone.now()
    if now < phase.opens_at:
        raise DomainError(f"Phase '{phase.title}' opens on {phase.opens_at:%Y-%m-%d %H:%M} UTC.",
                          code="phase_not_open", status=403)
    if now >= phase.closes_at:
        raise DomainError(f"Phase '{phase.title}' closed on {phase.closes_at:%Y-%m-%d %H:%M} UTC.",
                          code="phase_closed", status=403)
    return team


def _phase_references(phase: Phase) -> list[bytes]:
    refs = []
    for field in (phase.reference_public, phase.reference_private):
        if field:
            with field.open("rb") as handle:
                refs.append(handle.read())
    if not refs:
        raise DomainError("This phase has no reference labels yet, so it cannot take submissions.",
                          code="phase_not_ready", status=409)
    return refs


def submission_check_file(*, phase: Phase, data: bytes) -> int:
    """Parse a prediction against the track's format and the phase's keys; raise with the row."""
    track = phase.track
    scorer = scorers.get_scorer(track.scorer_key)
    try:
        return scorer.validate(data, golds=_phase_references(phase), options=track.scorer_options)
    except scorers.SubmissionFormatError as exc:
        raise DomainError(
            str(exc), code="invalid_submission_file", status=422,
            details={"field": "file", "line": exc.row, "column": exc.column},
        ) from None


def _quota_check(*, team: Team, phase: Phase, now: datetime) -> None:
    track = phase.track
    counted = Submission.objects.filter(team=team, phase=phase, status__in=COUNTED_STATUSES)
    if track.max_total is not None:
        used = counted.count()
        if used >= track.max_total:
            raise QuotaExceeded(
                f"Your team has used all {track.max_total} submissions of this phase.",
                details={"limit": "total", "allowed": track.max_total, "used": used},
            )
    if track.max_per_day is not None:
        midnight = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
        used = counted.filter(created_at__gte=midnight).count()
        if used >= track.max_per_day:
            resets = midnight + timedelta(days=1)
            raise QuotaExceeded(
                f"Your team has made {used} of its {track.max_per_day} submissions today; "
                f"the count resets at {resets:%Y-%m-%d %H:%M} UTC.",
                details={"limit": "per_day", "allowed": track.max_per_day, "used": used,
                         "resets_at": resets.isoformat()},
            )
    if track.max_in_flight is not None:
        used = counted.filter(status__in=IN_FLIGHT_STATUSES).count()
        if used >= track.max_in_flight:
            raise QuotaExceeded(
                f"Your team already has {used} submission(s) being scored (at most {track.max_in_flight}); "
                "wait until one finishes.",
                details={"limit": "in_flight", "allowed": track.max_in_flight, "used": used},
            )


def _prepare_create(*, user, phase: Phase, kind: str, method: MethodInfo, idempotency_key: str):
    """Checks common to every kind: (phase, team, idempotency key, earlier submission with that key)."""
    phase = Phase.objects.select_related("track__challenge").get(pk=phase.pk)
    if kind not in phase.track.accepted_kinds:
        raise DomainError(
            "This track takes containerised models, not prediction files." if kind == SubmissionKind.FILE
            else "This track takes prediction files, not containerised models.", code="kind_not_accepted")
    if not method.name.strip():
        raise DomainError("Name your method (e.g. 'wav2vec2 + MLP'); it is shown on the leaderboard.",
                          code="invalid", details={"field": "method_name"})
    team = submission_team_for(user=user, phase=phase)
    key = idempotency_key.strip()[:100]
    existing = Submission.objects.filter(team=team, idempotency_key=key).first() if key else None
    return phase, team, key, (_same_request(existing, phase) if existing else None)


def submission_create(
    *, user, phase: Phase, file_name: str, stream: BinaryIO, method: MethodInfo, idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Check, store and queue a prediction file. Returns (submission, created).

    A retried request with the same ``idempotency_key`` returns the first submission and uses
    no more of the team's limits. Limits are checked and the row inserted under a lock on the
    team, so parallel uploads at the limit admit exactly the limit.
    """
    phase, team, key, existing = _prepare_create(
        user=user, phase=phase, kind=SubmissionKind.FILE, method=method, idempotency_key=idempotency_key)
    if existing is not None:
        return existing, False
    track = phase.track
    prepared = prepare_prediction(
        name=file_name, stream=stream, max_bytes=track.max_upload_mb * MB, allow_compressed=track.allow_compressed
    )
    submission_check_file(phase=phase, data=prepared.data)

    return _insert_under_quota(
        user=user, team=team, phase=phase, idempotency_key=key, audit={
            "sha256": prepared.uploaded_sha256, "size": prepared.uploaded_size},
        row=dict(
            kind=SubmissionKind.FILE, file=ContentFile(prepared.data, name="predictions.csv"),
            file_name=prepared.uploaded_name, file_size=prepared.uploaded_size,
            file_sha256=prepared.uploaded_sha256, **_method_fields(method),
        ),
    )


def _method_fields(method: MethodInfo) -> dict:
    return dict(method_name=method.name.strip()[:100], method_description=method.description.strip(),
                paper_url=method.paper_url.strip(), code_url=method.code_url.strip())


def _insert_under_quota(*, user, team: Team, phase: Phase, idempotency_key: str, row: dict,
                        audit: dict) -> tuple[Submission, bool]:
    """Check the limits and insert under a lock on the team; queue the submission on commit."""
    with transaction.atomic():
        # The row lock serialises a team's uploads: N parallel requests at the limit admit exactly it.
        Team.objects.select_for_update().get(pk=team.pk)
        if idempotency_key:
            existing = Submission.objects.filter(team=team, idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_request(existing, phase), False
        _quota_check(team=team, phase=phase, now=timezone.now())
        submission = Submission.objects.create(
            phase=phase, team=team, submitted_by=user, idempotency_key=idempotency_key, **row)
        submission_enqueue(submission=submission)
        audit_record(actor=user, action="submission.create", target=submission,
                     challenge=phase.track.challenge, details={"phase": phase.pk, "kind": row["kind"], **audit})
    submission.refresh_from_db()
    return submission, True


def _same_request(existing: Submission, phase: Phase) -> Submission:
    if existing.phase_id != phase.pk:
        raise DomainError(
            "This Idempotency-Key was already used for a submission to another phase; send a new key.",
            code="idempotency_key_reused", status=409,
        )
    return existing


def submission_for_member(*, user, submission_id: int) -> Submission:
    """A submission of the user's own team (organisers of its challenge see every one)."""
    from arena.challenges.permissions import is_organiser

    submission = Submission.objects.select_related("phase__track__challenge", "team").filter(
        pk=submission_id).first()
    if submission is None:
        raise NotFound("No such submission.")
    if is_organiser(user, submission.phase.track.challenge):
        return submission
    if submission.team_id and TeamMembership.objects.filter(team_id=submission.team_id, user=user).exists():
        return submission
    raise NotFound("No such submission.")
