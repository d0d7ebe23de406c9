"""Personal API tokens: issued once, stored hashed, named, revocable, expiring; audit of each change."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.core.errors import Conflict, DomainError, NotFound
from arena.tokens.models import ApiToken
from arena.tokens.services import (
    MAX_ACTIVE_TOKENS,
    TokenRejected,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from tests.platform.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_FORMAT = re.compile(r"^arena_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


def test_a_new_token_is_returned_once_and_only_its_digest_is_stored():
    user = UserFactory(username="ada")
    issued = api_token_create(user=user, name="  lab   server ")
    match = TOKEN_FORMAT.match(issued.raw)
    assert match, issued.raw
    row = ApiToken.objects.get()
    assert (row.user, row.name, row.prefix, row.expires_at, row.last_used_at, row.revoked_at) == (
        user, "lab server", match.group(1), None, None, None)
    assert row.digest == hashlib.sha256(issued.raw.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get()]
    assert not any(match.group(2) in value for value in stored)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        user, "api_token.create", "tokens.apitoken", str(row.pk))
    assert entry.details == {"name": "lab server", "prefix": row.prefix, "expires_at": None}
    assert match.group(2) not in str(entry.details)


def test_two_tokens_differ_and_authenticate_as_their_owner():
    user = UserFactory()
    first, second = api_token_create(user=user, name="a"), api_token_create(user=user, name="b")
    assert first.raw != second.raw and first.token.prefix != second.token.prefix
    assert api_token_authenticate(raw=first.raw).pk == first.token.pk
    assert api_token_authenticate(raw=second.raw).user == user


@pytest.mark.parametrize("name,code,field", [("", "invalid", "name"), ("   ", "invalid", "name"),
                                             ("x" * 101, "invalid", "name")])
def test_a_token_needs_a_short_name(name, code, field):
    with pytest.raises(DomainError) as err:
        api_token_create(user=UserFactory(), name=name)
    assert (err.value.code, err.value.details) == (code, {"field": field})
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


def test_names_are_unique_among_active_tokens_and_free_again_after_revoking():
    user = UserFactory()
    first = api_token_create(user=user, name="laptop")
    with pytest.raises(Conflict) as err:
        api_token_create(user=user, name="laptop")
    assert err.value.code == "token_name_taken"
    api_token_create(user=UserFactory(), name="laptop")  # another person's names are theirs
    api_token_revoke(actor=user, token_id=first.token.pk)
    again = api_token_create(user=user, name="laptop")
    assert ApiToken.objects.filter(user=user, name="laptop").count() == 2
    assert api_token_authenticate(raw=again.raw).pk == again.token.pk


def test_expiry_must_lie_in_the_future():
    with pytest.raises(DomainError) as err:
        api_token_create(user=UserFactory(), name="old", expires_at=timezone.now() - timedelta(seconds=1))
    assert err.value.details == {"field": "expires_at"}
    assert not ApiToken.objects.exists()


def test_the_number_of_active_tokens_is_capped():
    user = UserFactory()
    for index in range(MAX_ACTIVE_TOKENS):
        api_token_create(user=user, name=f"t{index}")
    with pytest.raises(Conflict) as err:
        api_token_create(user=user, name="one more")
    assert err.value.code == "too_many_tokens"
    assert ApiToken.objects.filter(user=user).count() == MAX_ACTIVE_TOKENS
    # Expired tokens do not count.
    ApiToken.objects.filter(name="t0").update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(user=user, name="one more")


def test_revoking_is_audited_once_and_only_the_owner_or_a_superuser_may():
    owner, stranger, admin = UserFactory(), UserFactory(), UserFactory(is_superuser=True)
    issued = api_token_create(user=owner, name="ci")
    with pytest.raises(NotFound):
        api_token_revoke(actor=stranger, token_id=issued.token.pk)
    assert ApiToken.objects.get().revoked_at is None
    revoked = api_token_revoke(actor=owner, token_id=issued.token.pk)
    assert revoked.revoked_at is not None
    assert api_token_revoke(actor=owner, token_id=issued.token.pk).revoked_at == revoked.revoked_at
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor__username")) == [
        ("api_token.create", owner.username), ("api_token.revoke", owner.username)]
    other = api_token_create(user=owner, name="ci-2")
    api_token_revoke(actor=admin, token_id=other.token.pk)
    entry = AuditEntry.objects.filter(action="api_token.revoke").latest("id")
    assert (entry.actor, entry.details) == (admin, {"name": "ci-2", "prefix": other.token.prefix,
                                                    "owner": owner.username})
    with pytest.raises(NotFound):
        api_token_revoke(actor=owner, token_id=999_999)


@pytest.mark.parametrize("mangle,code", [
    (lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"), "token_unknown"),  # right prefix, wrong secret
    (lambda raw: "arena_00000000_" + raw.split("_", 2)[2], "token_unknown"),  # unknown prefix
    (lambda raw: raw.replace("arena_", "arena-", 1), "token_unknown"),
    (lambda raw: "", "token_unknown"),
    (lambda raw: raw + "x" * 300, "token_unknown"),
])
def test_unknown_tokens_are_refused_with_how_to_fix_it(mangle, code, settings):
    issued = api_token_create(user=UserFactory(), name="t")
    with pytest.raises(TokenRejected) as err:
        api_token_authenticate(raw=mangle(issued.raw))
    assert (err.value.code, err.value.status) == (code, 401)
    assert err.value.message == (
        "Unknown API token: check that it was copied whole, or create a new token at "
        f"{settings.SITE_URL}/accounts/tokens/ and run `arena login` again.")
    assert ApiToken.objects.get().last_used_at is None


def test_revoked_expired_and_disabled_are_refused_with_their_reason():
    user = UserFactory()
    issued = api_token_create(user=user, name="t", expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.update(expires_at=timezone.make_aware(timezone.datetime(2026, 1, 2, 3, 4)))
    with pytest.raises(TokenRejected) as err:
        api_token_authenticate(raw=issued.raw)
    assert err.value.code == "token_expired"
    assert err.value.message.startswith("This API token ('t') expired on 2026-01-02 03:04 UTC; create a new token")
    ApiToken.objects.update(expires_at=None)
    user.is_active = False
    user.save()
    with pytest.raises(TokenRejected) as err:
        api_token_authenticate(raw=issued.raw)
    assert err.value.code == "account_disabled"
    api_token_revoke(actor=user, token_id=issued.token.pk)
    with pytest.raises(TokenRejected) as err:
        api_token_authenticate(raw=issued.raw)
    assert err.value.code == "token_revoked"
    assert f"was revoked on {timezone.now():%Y-%m-%d}" in err.value.message


def test_last_use_is_recorded_at_most_once_a_minute():
    issued = api_token_create(user=UserFactory(), name="t")
    api_token_authenticate(raw=issued.raw)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api_token_authenticate(raw=issued.raw)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    api_token_authenticate(raw=f"  {issued.raw}  ")
    assert ApiToken.objects.get().last_used_at > first
