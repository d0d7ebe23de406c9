"""Token authentication over HTTP: the header forms, every refusal in the error shape, sessions beside tokens."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arena.tokens.models import ApiToken
from arena.tokens.services import api_token_create, api_token_revoke
from tests.platform.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued():
    return api_token_create(user=UserFactory(username="ada", email="ada@example.org"), name="laptop")


def _me(client, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.get("/api/v1/me", headers=headers)


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "BEARER"])
def test_token_and_bearer_schemes_authenticate(client, issued, scheme):
    response = _me(client, f"{scheme} {issued.raw}")
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    assert response.json()["auth"] == {"method": "token", "token_name": "laptop",
                                       "token_prefix": issued.token.prefix, "token_expires_at": None}
    assert ApiToken.objects.get().last_used_at is not None


def test_anonymous_requests_to_protected_endpoints_get_401_with_the_scheme(client):
    response = _me(client, None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {"code": "not_authenticated",
                               "message": "Sign in or send an API token: Authorization: Token <token>.",
                               "details": {}}


@pytest.mark.parametrize("header,code", [
    ("Token", "token_malformed"),
    ("Token a b", "token_malformed"),
    ("Token arena_00000000_nope", "token_unknown"),
    ("Bearer not-a-token", "token_unknown"),
])
def test_bad_headers_are_401_in_the_error_shape(client, issued, header, code, settings):
    response = _me(client, header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert f"{settings.SITE_URL}/accounts/tokens/" in body["message"]


def test_non_ascii_token_is_refused_cleanly(client):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Token arena_é".encode().decode("latin-1"))
    assert response.status_code == 401
    assert response.json()["code"] in ("token_malformed", "token_unknown")


def test_revoked_and_expired_tokens_stop_working_at_once(client, issued):
    assert _me(client, f"Token {issued.raw}").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _me(client, f"Token {issued.raw}")
    assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")
    ApiToken.objects.update(expires_at=None)
    api_token_revoke(actor=issued.token.user, token_id=issued.token.pk)
    revoked = _me(client, f"Token {issued.raw}")
    assert (revoked.status_code, revoked.json()["code"]) == (401, "token_revoked")
    assert "run `arena login` again" in revoked.json()["message"]


def test_other_authorization_schemes_fall_through_to_the_session(client, issued):
    client.force_login(issued.token.user)
    response = client.get("/api/v1/me", headers={"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"})
    assert response.status_code == 200
    assert response.json()["auth"]["method"] == "session"


def test_a_bad_token_is_refused_even_with_a_valid_session(client, issued):
    client.force_login(issued.token.user)
    assert _me(client, "Token arena_00000000_nope").status_code == 401


def test_token_requests_need_no_csrf_token_but_session_writes_do(issued):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(issued.token.user)
    refused = browser.post("/api/v1/submissions/1/cancel")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied" and "CSRF" in refused.json()["message"]
    script = Client(enforce_csrf_checks=True)
    answered = script.post("/api/v1/submissions/1/cancel", headers={"Authorization": f"Token {issued.raw}"})
    assert answered.status_code == 404  # past authentication and CSRF: there is no such submission
    assert answered.json() == {"code": "not_found", "message": "No such submission.", "details": {}}
