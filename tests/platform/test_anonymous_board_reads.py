"""Anonymous reads of the API boards answered ahead of sessions and DRF
(``arena.leaderboards.api.anonymous_reads``): the same answers, validators and throttle as the views, given
only when nothing needs rendering; everything else reaches the views."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.cache import cache

from arena.leaderboards.api.views import LeaderboardCsvView, LeaderboardView
from arena.leaderboards.caching import board_bodies, board_response
from arena.tokens.services import api_token_create
from tests.platform.factories import PhaseFactory, TeamFactory, UserFactory
from tests.platform.test_board_caching import _scored, _urls

pytestmark = pytest.mark.django_db

HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Vary", "Allow", "Content-Type", "Content-Disposition",
           "Content-Length", "X-Frame-Options")


@pytest.fixture(autouse=True)
def _empty_stores():
    board_bodies.clear()
    cache.clear()  # the throttles' histories
    yield
    board_bodies.clear()
    cache.clear()


@pytest.fixture
def live() -> dict:
    phase = PhaseFactory()
    member = UserFactory()
    alpha = TeamFactory(challenge=phase.track.challenge, name="Alpha", members=[member])
    bravo = TeamFactory(challenge=phase.track.challenge, name="Bravo")
    _scored(phase, alpha, 0.61, 0.52)
    _scored(phase, bravo, 0.74, 0.33)
    return {"phase": phase, "alpha": alpha, "member": member}


VIEWS = {"api": LeaderboardView, "api_csv": LeaderboardCsvView}


def _views_not_called(kind: str):
    """The view must not run: the middleware answers."""
    return mock.patch.object(VIEWS[kind], "dispatch", side_effect=AssertionError("the view ran"))


@contextmanager
def _view_calls(view_class):
    """The paths ``view_class`` was asked for (DRF's dispatch), the view running as it does."""
    calls, dispatch = [], view_class.dispatch

    def counted(self, request, *args, **kwargs):
        calls.append(request.path)
        return dispatch(self, request, *args, **kwargs)

    with mock.patch.object(view_class, "dispatch", counted):
        yield calls


def _headers(response) -> dict:
    return {name: response.get(name) for name in HEADERS}


@contextmanager
def _full_answers():
    """The paths the views' path (``board_response``) answered, API and pages alike."""
    calls = []

    def counted(request, *args, **kwargs):
        calls.append(request.path)
        return board_response(request, *args, **kwargs)

    with mock.patch("arena.leaderboards.api.views.board_response", counted), \
            mock.patch("arena.leaderboards.caching.board_response", counted):
        yield calls


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_an_anonymous_304_and_stored_answer_come_before_the_view_with_the_views_headers(client, live, kind):
    url = _urls(live["phase"])[kind]
    with _full_answers() as calls:
        first = client.get(url)  # rendered by the view, and stored
        full = client.get(url, HTTP_ACCEPT="text/html, */*")  # the view's path, from the store
    assert calls == [url, url]
    assert full.status_code == 200 and full.content == first.content
    with _full_answers() as calls:
        stored = client.get(url)
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        head = client.head(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert calls == []
    assert stored.status_code == 200 and stored.content == first.content
    assert _headers(stored) == _headers(full)
    assert stored["Cache-Control"] == "public, max-age=5" and stored["X-Frame-Options"] == "DENY"
    assert stored["Content-Length"] == str(len(first.content))
    for answer in (not_modified, since, head):
        assert answer.status_code == 304 and answer.content == b""
        assert _headers(answer) == {**_headers(full), "Content-Type": answer.get("Content-Type"),
                                    "Content-Disposition": answer.get("Content-Disposition"), "Content-Length": "0"}
    api = kind.startswith("api")
    assert full["Vary"] == ("Cookie, Authorization, Accept" if api else "Cookie, Authorization")
    assert full.get("Allow") == ("GET, HEAD, OPTIONS" if api else None)


@pytest.mark.parametrize("headers", [
    {"HTTP_COOKIE": "sessionid=whatever"},
    {"HTTP_AUTHORIZATION": "Token arena_not-a-token"},
    {"HTTP_ACCEPT": "application/json"},
])
def test_requests_with_credentials_cookies_or_a_chosen_type_reach_the_view(client, live, headers):
    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]
    with _view_calls(LeaderboardView) as calls:
        answer = client.get(url, HTTP_IF_NONE_MATCH=etag, **headers)
    assert calls == [url]
    assert answer.status_code == (401 if "HTTP_AUTHORIZATION" in headers else 304)


def test_a_member_with_a_token_gets_their_private_answer_not_the_anonymous_one(client, live):
    issued = api_token_create(user=live["member"], name="script")
    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]
    answer = client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_AUTHORIZATION=f"Token {issued.raw}")
    assert answer["Cache-Control"] == "private, max-age=0"


def test_a_changed_board_is_rendered_by_the_view_at_once(client, live):
    url = _urls(live["phase"])["api"]
    before = client.get(url)
    client.get(url)  # stored
    _scored(live["phase"], live["alpha"], 0.93, 0.41)
    with _view_calls(LeaderboardView) as calls:
        after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
        plain = client.get(url)
    assert calls == [url]  # the new answer rendered once, then served from the store
    assert after.status_code == 200 and after["ETag"] != before["ETag"] and b"0.93" in after.content
    assert plain.content == after.content and plain["ETag"] == after["ETag"]


def test_refusals_unknown_phases_and_bad_windows_get_the_views_answers(client, live):
    phase = live["phase"]
    url = _urls(phase)["api"]
    etag = client.get(url)["ETag"]
    bad = client.get(url + "?limit=0", HTTP_IF_NONE_MATCH=etag)
    assert bad.status_code == 400 and bad.json()["details"] == {"field": "limit"}
    private = client.get(url + "?split=private", HTTP_IF_NONE_MATCH=etag)
    assert private.status_code == 403
    missing = client.get(f"/api/v1/phases/{phase.pk + 1000}/leaderboard", HTTP_IF_NONE_MATCH=etag)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    page = _urls(phase)["page"]
    page_etag = client.get(page)["ETag"]
    assert client.get(page + "?split=private", HTTP_IF_NONE_MATCH=page_etag).status_code == 403
    assert client.get(page.replace(f"/p/{phase.slug}/", "/p/no-such-phase/"),
                      HTTP_IF_NONE_MATCH=page_etag).status_code == 404
    challenge = phase.track.challenge
    challenge.is_published = False
    challenge.save(update_fields=["is_published"])
    hidden = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert hidden.status_code == 404 and hidden.json() == missing.json()
    assert client.get(page, HTTP_IF_NONE_MATCH=page_etag).status_code == 404


def test_a_host_the_site_does_not_serve_is_refused_as_before(client, live):
    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_HOST="evil.example").status_code == 400


def test_early_answers_count_against_the_anonymous_rate(client, live, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "1/minute", "submissions": None}}
    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]  # 1
    assert [client.get(url, HTTP_IF_NONE_MATCH=etag).status_code for _ in range(3)] == [304, 304, 429]
    refused = client.get(url)
    assert refused.status_code == 429 and refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0


def test_anonymous_requests_count_against_the_anonymous_rate_only(client, live, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "5/minute", "user": "1/minute", "submissions": None}}
    url = _urls(live["phase"])["api"]
    assert [client.get(url, HTTP_ACCEPT="application/json").status_code for _ in range(6)] == [200] * 5 + [429]


@pytest.mark.django_db(transaction=True)
def test_a_connection_broken_by_a_database_restart_sends_the_request_to_the_view(client, live):
    import psycopg
    from django.db import connection

    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]
    broken = connection.connection.info.backend_pid
    dsn = connection.connection.info.dsn
    with psycopg.connect(dsn, autocommit=True) as other:  # what a restart does to the web process's connection
        other.execute("SELECT pg_terminate_backend(%s)", [broken])
    with _view_calls(LeaderboardView) as calls:
        answer = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert calls == [url]  # the early reads failed; the view's path checked the connection and opened a new one
    assert answer.status_code == 304 and answer["ETag"] == etag
    assert connection.connection.info.backend_pid != broken
    with _views_not_called("api"):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
