"""A team's standing in its challenge: licence acceptance, signed agreement, organiser decisions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.models import Challenge
from arena.challenges.permissions import ensure_organiser
from arena.challenges.selectors import challenge_current_licence, dataset_current_licence
from arena.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from arena.core.keys import sha256_of
from arena.core.mail import send_notice_on_commit
from arena.datasets.models import Dataset
from arena.participation.models import ChallengeBar, LicenceAcceptance, Participation, ParticipationStatus
from arena.teams.models import Team
from arena.teams.selectors import team_of

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


def _send(subject: str, body: str, emails: list[str]) -> None:
    # The decision stands even if the mail server is down; the team sees it on the site.
    send_notice_on_commit(subject=subject, body=body, to=emails)


def _notify_team(participation: Participation, subject: str, body: str) -> None:
    _send(subject, body, list(participation.team.memberships.values_list("user__email", flat=True)))


def _notify_organisers(challenge: Challenge, subject: str, body: str) -> None:
    _send(subject, body, list(challenge.organisers.values_list("email", flat=True)))


def _decide(*, actor, participation: Participation, status: str, reason: str, action: str,
            then: Callable[[Team, str], dict] | None = None) -> bool:
    """Set the status; ``then(team, previous_status)`` runs on a change and returns extra audit details."""
    ensure_organiser(actor, participation.challenge)
    # Team before participation, the order team joins and leaves take too: the members read
    # below are the members at the moment of the decision.
    team = Team.objects.select_for_update(no_key=True).get(pk=participation.team_id)
    previous = Participation.objects.select_for_update().values_list("status", flat=True).get(pk=participation.pk)
    if previous == status:
        participation.refresh_from_db()
        return False
    Participation.objects.filter(pk=participation.pk).update(
        status=status, decided_at=timezone.now(), decided_by=actor, decision_reason=reason
    )
    participation.refresh_from_db()
    details = {"team": team.name, "reason": reason}
    if then is not None:
        details.update(then(team, previous))
    audit_record(actor=actor, action=action, target=participation, challenge=participation.challenge,
                 details=details)
    return True


def _required_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError(
            f"Give the team a reason for the {what}; it is sent to them.", code="reason_required",
            details={"field": "reason"},
        )
    return reason


def _bar_members(*, actor, team: Team, reason: str) -> list[str]:
    """Bar every current member of ``team`` from its challenge; the usernames newly barred."""
    members = list(team.memberships.select_related("user").order_by("joined_at"))
    already = set(ChallengeBar.objects.filter(
        challenge_id=team.challenge_id, user__in=[m.user_id for m in members], lifted_at__isnull=True,
    ).values_list("user_id", flat=True))
    new = [m.user for m in members if m.user_id not in already]
    ChallengeBar.objects.bulk_create([
        ChallengeBar(challenge_id=team.challenge_id, user=user, team_name=team.name, reason=reason,
                     created_by=actor)
        for user in new
    ])
    return [user.username for user in new]


def _lift(*, actor, bar: ChallengeBar, via: str) -> bool:
    updated = ChallengeBar.objects.filter(pk=bar.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=actor
    )
    if not updated:
        return False
    bar.refresh_from_db(fields=["lifted_at", "lifted_by"])
    audit_record(
        actor=actor, action="challenge_bar.lift", target=bar, challenge=bar.challenge,
        details={"user": bar.user.username, "team": bar.team_name, "via": via},
    )
    return True


@transaction.atomic
def participation_approve(*, actor, participation: Participation) -> bool:
    """Approve a team (also re-admits a denied or revoked one). False when already approved.

    Re-admitting a revoked team lifts the bars of the people still in it.
    """
    def lift_member_bars(team: Team, previous: str) -> dict:
        if previous != ParticipationStatus.REVOKED:
            return {}
        bars = ChallengeBar.objects.select_related("user", "challenge").filter(
            challenge_id=team.challenge_id, lifted_at__isnull=True,
            user__in=team.memberships.values("user"),
        )
        return {"lifted_bars": [bar.user.username for bar in bars
                                if _lift(actor=actor, bar=bar, via="participation.approve")]}

    changed = _decide(
        actor=actor, participation=participation, status=ParticipationStatus.APPROVED, reason="",
        action="participation.approve", then=lift_member_bars,
    )
    if changed:
        challenge = participation.challenge
        _notify_team(
            participation, f"[{challenge.title}] Your team is approved",
            f"Team '{participation.team.name}' is approved for {challenge.title}. "
            f"You can now download the data and submit: {settings.SITE_URL}/c/{challenge.slug}/",
        )
    return changed


@transaction.atomic
def participation_deny(*, actor, participation: Participation, reason: str) -> bool:
    """Deny a team, with a reason e-mailed to its members. False when already denied."""
    reason = _required_reason(reason, "denial")
    changed = _decide(
        actor=actor, participation=participation, status=ParticipationStatus.DENIED, reason=reason,
        action="participation.deny",
    )
    if changed:
        challenge = participation.challenge
        _notify_team(
            participation, f"[{challenge.title}] Your participation request was denied",
            f"Team '{participation.team.name}' was not approved for {challenge.title}.\n\n"
            f"Reason given by the organisers: {reason}",
        )
    return changed


@transaction.atomic
def participation_revoke(*, actor, participation: Participation, reason: str) -> bool:
    """Withdraw a team's access: no new download links; links already issued expire on their own.

    Every member at this moment is barred from the challenge (in this team or any other) until an
    organiser lifts the bar or re-admits the team. False when already revoked.
    """
    reason = _required_reason(reason, "revocation")
    changed = _decide(
        actor=actor, participation=participation, status=ParticipationStatus.REVOKED, reason=reason,
        action="participation.revoke",
        then=lambda team, previous: {"barred": _bar_members(actor=actor, team=team, reason=reason)},
    )
    if changed:
        challenge = participation.challenge
        _notify_team(
            participation, f"[{challenge.title}] Your team's access was revoked",
            f"The organisers of {challenge.title} revoked the access of team '{participation.team.name}' "
            f"to the data.\n\nReason given by the organisers: {reason}\n\n"
            f"Until they restore it, you cannot take part in {challenge.title} in this or any other team.",
        )
    return changed


@transaction.atomic
def challenge_bar_lift(*, actor, bar: ChallengeBar) -> bool:
    """Let a barred person take part in the challenge again. False when already lifted.

    Their revoked team, if they are still in it, stays revoked until the organisers approve it.
    """
    ensure_organiser(actor, bar.challenge)
    if not _lift(actor=actor, bar=bar, via="challenge_bar.lift"):
        return False
    challenge = bar.challenge
    _send(
        f"[{challenge.title}] Your access was restored",
        f"The organisers of {challenge.title} restored your access. Create or join a team at "
        f"{settings.SITE_URL}/c/{challenge.slug}/team/",
        [bar.user.email],
    )
    return True


def _team_for(user, challenge: Challenge) -> Team:
    team = team_of(user, challenge)
    if team is None:
        raise PermissionDenied(
            f"Create or join a team for '{challenge.title}' first; the licence is accepted for a team.",
            code="not_in_team",
        )
    return team


def _clean_text(value: str, field: str, label: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise DomainError(f"Give your {label}.", code="invalid", details={"field": field})
    return value


def _licence_to_accept(challenge: Challenge, dataset: Dataset | None):
    """The current challenge licence, or the current licence of ``dataset`` (one of the challenge's)."""
    if dataset is None:
        licence = challenge_current_licence(challenge)
        if licence is None:
            raise NotFound("This challenge has no licence to accept yet.", code="no_licence")
        return licence
    if dataset.challenge_id != challenge.pk:
        raise NotFound("No such dataset.", code="not_found")
    licence = dataset_current_licence(dataset)
    if licence is None:
        raise NotFound(f"'{dataset.title}' has no licence of its own; the challenge licence covers it.",
                       code="no_licence")
    return licence


def _licence_name(dataset: Dataset | None) -> str:
    return f"the licence of '{dataset.title}'" if dataset is not None else "the licence"


@transaction.atomic
def licence_accept(*, user, challenge: Challenge, full_name: str, affiliation: str,
                   accepted_on: date, dataset: Dataset | None = None) -> LicenceAcceptance:
    """Record that ``user`` accepted the current licence version for their team: the challenge
    licence, or with ``dataset`` that dataset's own licence.

    One acceptance per team and version: a second one is refused with ``already_accepted``.
    The date must be today (one day either way, for time zones).
    """
    team = _team_for(user, challenge)
    licence = _licence_to_accept(challenge, dataset)
    full_name = _clean_text(full_name, "full_name", "full name")
    affiliation = _clean_text(affiliation, "affiliation", "affiliation (university, lab or company)")
    if abs((accepted_on - timezone.localdate()).days) > 1:
        raise DomainError("The date of acceptance must be today's date.", code="invalid",
                          details={"field": "accepted_on"})
    existing = LicenceAcceptance.objects.filter(team=team, licence=licence).select_related("accepted_by").first()
    if existing is not None:
        raise Conflict(
            f"Your team already accepted version {licence.version} of {_licence_name(dataset)} "
            f"({existing.full_name}, {existing.accepted_on:%Y-%m-%d}).",
            code="already_accepted",
        )
    try:
        with transaction.atomic():
            acceptance = LicenceAcceptance.objects.create(
                team=team, licence=licence, accepted_by=user, full_name=full_name,
                affiliation=affiliation, accepted_on=accepted_on,
            )
    except IntegrityError:
        raise Conflict("A team mate accepted the licence at the same moment; reload the page.",
                       code="already_accepted") from None
    audit_record(
        actor=user, action="licence.accept", target=acceptance, challenge=challenge,
        details={"team": team.name, "version": licence.version, "full_name": full_name,
                 "affiliation": affiliation, "dataset": dataset.slug if dataset is not None else None},
    )
    return acceptance


def agreement_max_bytes() -> int:
    return settings.ARENA_AGREEMENT_MAX_BYTES


def _check_pdf(upload: UploadedFile) -> None:
    limit = agreement_max_bytes()
    size = upload.size or 0
    if size == 0:
        raise DomainError("The uploaded file is empty.", code="invalid_agreement", details={"field": "file"})
    if size > limit:
        raise DomainError(
            f"The signed agreement is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB. "
            "Scan it at a lower resolution.",
            code="agreement_too_large", details={"field": "file", "limit_bytes": limit},
        )
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise DomainError("The signed agreement must be a PDF file.", code="invalid_agreement",
                          details={"field": "file"})


@transaction.atomic
def licence_agreement_upload(*, user, challenge: Challenge, upload: UploadedFile,
                             dataset: Dataset | None = None) -> LicenceAcceptance:
    """Attach the signed licence agreement (PDF) to the team's acceptance of the current version
    (of the challenge licence, or with ``dataset`` of that dataset's own licence).

    A team may replace it until the organisers approve; a denied team that uploads a new one
    asks for a decision again (back to pending). The organisers are e-mailed.
    """
    team = _team_for(user, challenge)
    if dataset is None:
        if not challenge.requires_signed_agreement:
            raise Conflict("This challenge does not ask for a signed agreement.", code="agreement_not_required")
        licence = challenge_current_licence(challenge)
    else:
        licence = _licence_to_accept(challenge, dataset)
        if not licence.requires_signed_agreement:
            raise Conflict(f"The licence of '{dataset.title}' does not ask for a signed agreement.",
                           code="agreement_not_required")
    acceptance = (LicenceAcceptance.objects.select_for_update().filter(team=team, licence=licence).first()
                  if licence else None)
    if acceptance is None:
        raise Conflict(f"Accept the current version of {_licence_name(dataset)} first, then upload its signed copy.",
                       code="licence_not_accepted")
    participation = Participation.objects.select_for_update().filter(team=team).first()
    status = participation.status if participation else ParticipationStatus.PENDING
    if status == ParticipationStatus.REVOKED:
        raise PermissionDenied("The organisers revoked your team's access; contact them.",
                               code="participation_revoked")
    approved = acceptance.approved_at is not None if dataset is not None else status == ParticipationStatus.APPROVED
    if approved and acceptance.signed_agreement:
        raise Conflict("Your team is approved on the agreement already uploaded; it can no longer be replaced.",
                       code="already_approved")
    _check_pdf(upload)
    digest, size = sha256_of(upload)
    old_key = acceptance.signed_agreement.name if acceptance.signed_agreement else ""
    prefix = f"agreement-{team.pk}-{dataset.slug}" if dataset is not None else f"agreement-{team.pk}"
    acceptance.signed_agreement.save(f"{prefix}-v{licence.version}.pdf", upload, save=False)
    acceptance.agreement_size, acceptance.agreement_sha256 = size, digest
    acceptance.agreement_uploaded_at, acceptance.agreement_uploaded_by = timezone.now(), user
    acceptance.save(update_fields=["signed_agreement", "agreement_size", "agreement_sha256",
                                   "agreement_uploaded_at", "agreement_uploaded_by"])
    if old_key:
        storage = acceptance.signed_agreement.storage
        transaction.on_commit(lambda: storage.delete(old_key))
    if dataset is None and status == ParticipationStatus.DENIED:
        Participation.objects.filter(pk=participation.pk).update(status=ParticipationStatus.PENDING)
    audit_record(
        actor=user, action="licence.agreement_upload", target=acceptance, challenge=challenge,
        details={"team": team.name, "version": licence.version, "sha256": digest, "size": size,
                 "replaced": bool(old_key), "dataset": dataset.slug if dataset is not None else None},
    )
    where = "participation/participation" if dataset is None else "participation/licenceacceptance"
    _notify_organisers(
        challenge, f"[{challenge.title}] Signed agreement from team '{team.name}'",
        f"Team '{team.name}' uploaded the signed copy of {_licence_name(dataset)} (version {licence.version}). "
        f"Review it and decide in the organiser admin: {settings.SITE_URL}/admin/{where}/",
    )
    return acceptance


@transaction.atomic
def licence_acceptance_approve(*, actor, acceptance: LicenceAcceptance) -> bool:
    """Approve a team's acceptance of a dataset licence that requires approval; False if already approved.

    The signed copy must be uploaded first where the licence asks for one. The team is e-mailed.
    """
    acceptance = (LicenceAcceptance.objects.select_for_update(of=("self",))
                  .select_related("licence__dataset", "licence__challenge", "team").get(pk=acceptance.pk))
    licence = acceptance.licence
    ensure_organiser(actor, licence.challenge)
    if licence.dataset_id is None or not licence.requires_approval:
        raise Conflict(f"'{licence}' does not ask for approval of each acceptance; teams are approved "
                       "on the challenge instead.", code="approval_not_required")
    if acceptance.approved_at is not None:
        return False
    if licence.requires_signed_agreement and not acceptance.signed_agreement:
        raise Conflict(f"Team '{acceptance.team.name}' has not uploaded the signed copy of '{licence}' yet.",
                       code="agreement_missing")
    acceptance.approved_at, acceptance.approved_by = timezone.now(), actor
    acceptance.save(update_fields=["approved_at", "approved_by"])
    audit_record(
        actor=actor, action="licence.approve", target=acceptance, challenge=licence.challenge,
        details={"team": acceptance.team.name, "dataset": licence.dataset.slug, "version": licence.version},
    )
    challenge = licence.challenge
    _send(
        f"[{challenge.title}] Licence of '{licence.dataset.title}' approved",
        f"The organisers approved your team's acceptance of the licence of '{licence.dataset.title}'. "
        f"Its files are at {settings.SITE_URL}/c/{challenge.slug}/data/",
        list(acceptance.team.memberships.values_list("user__email", flat=True)),
    )
    return True
