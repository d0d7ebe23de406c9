"""Organiser decisions on a team's participation."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from arena.audit.services import audit_record
from arena.challenges.permissions import ensure_organiser
from arena.core.errors import DomainError
from arena.participation.models import Participation, ParticipationStatus


def _notify_team(participation: Participation, subject: str, body: str) -> None:
    emails = list(participation.team.memberships.values_list("user__email", flat=True))
    if emails:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails, fail_silently=True)
        )


def _decide(*, actor, participation: Participation, status: str, reason: str, action: str) -> bool:
    ensure_organiser(actor, participation.challenge)
    if participation.status == status:
        return False
    Participation.objects.filter(pk=participation.pk).update(
        status=status, decided_at=timezone.now(), decided_by=actor, decision_reason=reason
    )
    participation.refresh_from_db()
    audit_record(
        actor=actor, action=action, target=participation, challenge=participation.challenge,
        details={"team": participation.team.name, "reason": reason},
    )
    return True


@transaction.atomic
def participation_approve(*, actor, participation: Participation) -> bool:
    changed = _decide(
        actor=actor, participation=participation, status=ParticipationStatus.APPROVED, reason="",
        action="participation.approve",
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
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Give the team a reason for the denial; it is sent to them.", code="reason_required",
            details={"field": "reason"},
        )
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
