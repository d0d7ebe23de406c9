"""One error shape for every refusal of the API, unknown routes and server errors included; no stack trace."""

import pytest
from django.test import Client

from arena.challenges.api import views as challenge_views
from arena.tokens.services import api_token_create
from tests.platform.factories import PhaseFactory, UserFactory

pytestmark = pytest.mark.django_db

SHAPE = {"code", "message", "details"}


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/challenges/x/y/z", "/api/v1/submissions/abc",
                                  "/api/v2/challenges", "/api/"])
def test_unknown_api_routes_are_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found", "details": {},
        "message": f"No API endpoint at {path}; the endpoints are listed at /api/v1/docs.",
    }
    assert client.post(path).json()["code"] == "not_found"


def test_unknown_pages_outside_the_api_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_wrong_method_validation_and_parse_errors(client):
    token = api_token_create(user=UserFactory(), name="t").raw
    auth = {"Authorization": f"Token {token}"}
    method = client.delete("/api/v1/challenges", headers=auth)
    assert (method.status_code, method.json()) == (405, {
        "code": "method_not_allowed", "message": 'Method "DELETE" not allowed.', "details": {}})
    missing = client.post("/api/v1/submissions/1/select", {}, content_type="application/json", headers=auth)
    assert missing.status_code == 400
    assert missing.json() == {"code": "invalid", "message": "Invalid input — selected: This field is required.",
                              "details": {"fields": {"selected": ["This field is required."]}}}
    broken = client.post("/api/v1/submissions/1/select", "{not json", content_type="application/json",
                         headers=auth)
    assert broken.status_code == 400
    assert set(broken.json()) == SHAPE and broken.json()["code"] == "parse_error"


def test_throttling_answers_429_with_when_to_retry(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": None, "submissions": None}}
    from django.core.cache import cache

    cache.clear()
    assert [client.get("/api/v1/challenges").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/challenges")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and 0 < body["details"]["retry_after_seconds"] <= 60
    assert response["Retry-After"] == str(body["details"]["retry_after_seconds"])
    cache.clear()


def test_a_server_error_under_the_api_is_json_without_a_trace(monkeypatch):
    def explode(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(challenge_views.ChallengeListView, "get", explode)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/challenges")
    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error", "details": {},
        "message": "Something went wrong on our side; it was logged. Try again later.",
    }
    assert b"secret internals" not in response.content and b"Traceback" not in response.content


@pytest.mark.parametrize("query", ["offset=100000000000000000000", "offset=-1", "limit=0", "limit=1001",
                                   "limit=ten"])
def test_a_leaderboard_window_out_of_range_is_refused_not_a_crash(client, query):
    phase = PhaseFactory()
    response = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["details"] == {"field": "limit"}
    assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard?offset=2147483647").json()["entries"] == []


def test_a_request_django_refuses_before_the_api_is_json_too():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/challenges", headers={"Host": "not-allowed.example"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request", "details": {},
        "message": "The request could not be read: check its size, headers and encoding.",
    }
    page = client.get("/", headers={"Host": "not-allowed.example"})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
