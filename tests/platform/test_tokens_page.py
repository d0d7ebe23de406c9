"""The profile page /accounts/tokens/: create (shown once), list, revoke."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.tokens.models import ApiToken
from arena.tokens.services import api_token_create, token_digest
from tests.platform.factories import UserFactory

pytestmark = pytest.mark.django_db

SHOWN = re.compile(rb'id="new-token" type="text" readonly value="(arena_[0-9a-f]{8}_[A-Za-z0-9_-]{43})"')


def test_the_page_needs_a_signed_in_person(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/accounts/tokens/"
    assert client.post("/accounts/tokens/", {"name": "x", "expires": "never"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_creating_shows_the_token_once_and_stores_its_digest(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "laptop", "expires": "30"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    raw = SHOWN.search(response.content).group(1).decode()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.digest) == (user, "laptop", token_digest(raw))
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert b"it is not stored and will not be shown again" in response.content
    page = client.get("/accounts/tokens/")
    assert page.status_code == 200
    assert raw.encode() not in page.content
    assert f"arena_{token.prefix}_".encode() in page.content and b"laptop" in page.content
    assert AuditEntry.objects.get().action == "api_token.create"


def test_never_expiring_tokens_and_refusals_are_shown_in_the_form(client):
    user = UserFactory()
    client.force_login(user)
    assert client.post("/accounts/tokens/", {"name": "ci", "expires": "never"}).status_code == 201
    assert ApiToken.objects.get().expires_at is None
    again = client.post("/accounts/tokens/", {"name": "ci", "expires": "never"})
    assert again.status_code == 409
    assert b"You already have a token called &#x27;ci&#x27;" in again.content
    assert not SHOWN.search(again.content)
    blank = client.post("/accounts/tokens/", {"name": "", "expires": "sometime"})
    assert blank.status_code == 400
    assert ApiToken.objects.count() == 1


def test_revoking_from_the_page_and_nobody_else_s(client):
    owner, other = UserFactory(), UserFactory()
    mine = api_token_create(user=owner, name="mine").token
    theirs = api_token_create(user=other, name="theirs").token
    client.force_login(owner)
    assert client.get(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 405
    response = client.post(f"/accounts/tokens/{theirs.pk}/revoke/", follow=True)
    assert b"No such token." in response.content
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = client.post(f"/accounts/tokens/{mine.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/accounts/tokens/", 302)]
    assert b"Token &#x27;mine&#x27; revoked" in response.content and b">revoked</span>" in response.content
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert list(AuditEntry.objects.filter(action="api_token.revoke").values_list("target_id", flat=True)) == [
        str(mine.pk)]


def test_the_navigation_links_to_the_page_for_signed_in_people(client):
    assert b'href="/accounts/tokens/"' not in client.get("/").content
    client.force_login(UserFactory())
    assert b'href="/accounts/tokens/"' in client.get("/").content


def test_superusers_can_revoke_anyone_s_token_in_the_admin_and_organisers_cannot_see_tokens(client):
    owner = UserFactory()
    token = api_token_create(user=owner, name="leaked").token
    organiser = UserFactory(is_staff=True)
    client.force_login(organiser)
    assert client.get("/admin/tokens/apitoken/").status_code == 403
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/tokens/apitoken/")
    assert listing.status_code == 200 and b"leaked" in listing.content and token.digest.encode() not in listing.content
    response = client.post("/admin/tokens/apitoken/", {"action": "revoke", "_selected_action": [token.pk]},
                           follow=True)
    assert b"1 token(s) revoked." in response.content
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert (entry.actor, entry.details["owner"]) == (admin, owner.username)
