"""Issuing, revoking and checking personal API tokens.

A token reads ``arena_<prefix>_<secret>``: the prefix (8 hex digits) finds the row and is shown
in lists; only the sha256 of the whole token is stored, and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from arena.audit.services import audit_record
from arena.core.errors import Conflict, DomainError, NotFound
from arena.tokens.models import ApiToken

SCHEME = "arena"
#: A person may hold this many tokens that are neither revoked nor expired.
MAX_ACTIVE_TOKENS = 20
#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200


class TokenRejected(DomainError):
    """The token sent with a request cannot be used; the message says how to get a working one."""

    status = 401
    code = "token_invalid"


@dataclass(frozen=True)
class IssuedToken:
    """A new token row and the token itself, which exists only here and is shown once."""

    token: ApiToken
    raw: str


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def tokens_page_url() -> str:
    return f"{settings.SITE_URL}{reverse('api-tokens')}"


def _active(now: datetime):
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


@transaction.atomic
def api_token_create(*, user, name: str, expires_at: datetime | None = None) -> IssuedToken:
    """Issue a named token for ``user``, valid until ``expires_at`` (None: until revoked)."""
    name = " ".join((name or "").split())
    now = timezone.now()
    if not name:
        raise DomainError("Name the token after where you use it, e.g. 'laptop' or 'lab server'.",
                          code="invalid", details={"field": "name"})
    if len(name) > 100:
        raise DomainError("A token name has at most 100 characters.", code="invalid", details={"field": "name"})
    if expires_at is not None and expires_at <= now:
        raise DomainError("The expiry date must lie in the future.", code="invalid",
                          details={"field": "expires_at"})
    # Serialises concurrent creations by one person, so the cap and the name rule hold.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    mine = ApiToken.objects.filter(user=user)
    if mine.filter(revoked_at__isnull=True, name=name).exists():
        raise Conflict(f"You already have a token called '{name}'; choose another name or revoke that one.",
                       code="token_name_taken", details={"field": "name"})
    if mine.filter(_active(now)).count() >= MAX_ACTIVE_TOKENS:
        raise Conflict(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one you no longer use.",
                       code="too_many_tokens")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=token_digest(raw),
                                    expires_at=expires_at)
    audit_record(actor=user, action="api_token.create", target=token, details={
        "name": name, "prefix": prefix, "expires_at": expires_at.isoformat() if expires_at else None})
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, actor, token_id: int) -> ApiToken:
    """Revoke one token of ``actor`` (superusers: of anyone). Revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not actor.is_superuser):
        raise NotFound("No such token.", code="not_found")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="api_token.revoke", target=token,
                 details={"name": token.name, "prefix": token.prefix, "owner": token.user.username})
    return token


def _parse(raw: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != SCHEME or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def api_token_authenticate(*, raw: str) -> ApiToken:
    """The live token ``raw`` stands for, its ``user`` loaded; records when it was last used.

    Raises ``TokenRejected`` (401) for an unknown, revoked or expired token, or a disabled account.
    """
    fix = f"create a new token at {tokens_page_url()} and run `arena login` again"
    prefix = _parse(raw.strip())
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first() if prefix else None
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw.strip())):
        raise TokenRejected(f"Unknown API token: check that it was copied whole, or {fix}.",
                            code="token_unknown")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(f"This API token ('{token.name}') was revoked on {token.revoked_at:%Y-%m-%d}; {fix}.",
                            code="token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected(f"This API token ('{token.name}') expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; "
                            f"{fix}.", code="token_expired")
    if not token.user.is_active:
        raise TokenRejected("This account is disabled; contact the site's administrators.",
                            code="account_disabled")
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token

