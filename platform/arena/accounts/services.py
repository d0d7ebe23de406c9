from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from arena.accounts.models import HostingRequest, User
from arena.accounts.permissions import can_host_challenges, host_challenges_permission
from arena.audit.services import audit_record
from arena.core.errors import Conflict, PermissionDenied
from arena.core.mail import send_notice_on_commit


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str, affiliation: str = "") -> User:
    user = User.objects.create_user(
        username=username, email=email.strip(), password=password, affiliation=affiliation.strip()
    )
    audit_record(actor=user, action="account.sign_up", target=user)
    return user


HOSTING_ALREADY_HOST = "You may already host challenges: create one in the organiser admin."
HOSTING_ALREADY_OPEN = ("You already have a request waiting for a site admin's decision; "
                        "you will get an e-mail when it is decided.")


@transaction.atomic
def hosting_request_create(*, user: User, affiliation: str, challenge_name: str, reason: str) -> HostingRequest:
    """Ask the site admins for the right to host challenges; one open request per person."""
    if can_host_challenges(user):
        raise Conflict(HOSTING_ALREADY_HOST, code="already_host")
    # The person's row is locked so that two simultaneous requests cannot both pass the check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if HostingRequest.objects.filter(user=user, decided_at__isnull=True).exists():
        raise Conflict(HOSTING_ALREADY_OPEN, code="hosting_request_open")
    try:
        with transaction.atomic():
            hosting = HostingRequest.objects.create(
                user=user, affiliation=affiliation.strip(), challenge_name=challenge_name.strip(),
                reason=reason.strip(),
            )
    except IntegrityError:
        raise Conflict(HOSTING_ALREADY_OPEN, code="hosting_request_open") from None
    audit_record(actor=user, action="hosting.request", target=hosting,
                 details={"challenge_name": hosting.challenge_name})
    return hosting


@transaction.atomic
def hosting_request_grant(*, actor: User, hosting: HostingRequest) -> bool:
    """Grant a waiting request: the person may host challenges and enters the organiser admin.

    False when the request was already decided.
    """
    hosting = _lock_undecided(actor, hosting)
    if hosting is None:
        return False
    user = hosting.user
    _decide(actor, hosting, granted=True)
    user.user_permissions.add(host_challenges_permission())
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(actor=actor, action="hosting.grant", target=hosting, details={"user": user.username})
    send_notice_on_commit(
        subject="You may now host challenges on AffectArena",
        body=(f"Hello {user.username},\n\nyour request to host challenges ({hosting.challenge_name}) was "
              f"granted. Create your challenge in the organiser admin: {settings.SITE_URL}"
              f"{reverse('admin:challenges_challenge_add')}\n"),
        to=[user.email],
    )
    return True


@transaction.atomic
def hosting_request_deny(*, actor: User, hosting: HostingRequest, reason: str = "") -> bool:
    """Deny a waiting request (the reason, if any, is sent to the person). False when already decided."""
    hosting = _lock_undecided(actor, hosting)
    if hosting is None:
        return False
    reason = reason.strip()
    _decide(actor, hosting, granted=False)
    audit_record(actor=actor, action="hosting.deny", target=hosting,
                 details={"user": hosting.user.username, "reason": reason})
    because = f" The site admins wrote: {reason}" if reason else ""
    send_notice_on_commit(
        subject="Your request to host challenges on AffectArena",
        body=(f"Hello {hosting.user.username},\n\nyour request to host challenges ({hosting.challenge_name}) "
              f"was not granted.{because}\nYou may send a new request: {settings.SITE_URL}"
              f"{reverse('hosting-request')}\n"),
        to=[hosting.user.email],
    )
    return True


def _lock_undecided(actor: User, hosting: HostingRequest) -> HostingRequest | None:
    if not (getattr(actor, "is_authenticated", False) and actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only site admins decide requests to host challenges.", code="not_site_admin")
    return (HostingRequest.objects.select_for_update().select_related("user")
            .filter(pk=hosting.pk, decided_at__isnull=True).first())


def _decide(actor: User, hosting: HostingRequest, *, granted: bool) -> None:
    hosting.granted, hosting.decided_at, hosting.decided_by = granted, timezone.now(), actor
    hosting.save(update_fields=["granted", "decided_at", "decided_by"])
