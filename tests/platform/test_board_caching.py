"""Conditional reads of boards (API, API CSV, page, page CSV): validators, 304s that read no row, caching rules,
and validators that do not move with hidden scores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arena.challenges.models import BoardVisibility
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from tests.platform.clock import clock  # noqa: F401
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ENTRIES_TABLE = LeaderboardEntry._meta.db_table
SNAPSHOT_CSV = f'"{LeaderboardSnapshot._meta.db_table}"."csv"'


def _world(**phase_fields) -> dict:
    organiser = UserFactory(username="organiser")
    alpha_user, bravo_user = UserFactory(username="alpha-member"), UserFactory(username="bravo-member")
    phase = PhaseFactory(track__challenge__organisers=[organiser], **phase_fields)
    challenge = phase.track.challenge
    alpha = TeamFactory(challenge=challenge, name="Alpha", members=[alpha_user])
    bravo = TeamFactory(challenge=challenge, name="Bravo", members=[bravo_user])
    return {"phase": phase, "alpha": alpha, "bravo": bravo, "organiser": organiser, "alpha_user": alpha_user}


def _scored(phase, team, public, private, *, at=None) -> Submission:
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    if at is not None:
        Submission.objects.filter(pk=sub.pk).update(created_at=at)
    for split, score in (("public", public), ("private", private)):
        SubmissionScore.objects.create(submission=sub, split=split, score=score, metrics={"waf": score})
    leaderboard_refresh(phase_id=phase.pk)
    return sub


def _urls(phase) -> dict[str, str]:
    page = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}"
    return {"api": f"/api/v1/phases/{phase.pk}/leaderboard", "api_csv": f"/api/v1/phases/{phase.pk}/leaderboard.csv",
            "page": f"{page}/leaderboard/", "page_csv": f"{page}/leaderboard.csv"}


@pytest.fixture
def live() -> dict:
    w = _world()
    _scored(w["phase"], w["alpha"], 0.61, 0.52)
    _scored(w["phase"], w["bravo"], 0.74, 0.33)
    return w


def _vary(response) -> set[str]:
    return {v.strip() for v in response.get("Vary", "").split(",")}


def _reads_of(queries) -> list[str]:
    return [q["sql"] for q in queries if ENTRIES_TABLE in q["sql"] or SNAPSHOT_CSV in q["sql"]]


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_public_board_carries_validators_and_answers_304_without_reading_rows(client, live, kind):
    url = _urls(live["phase"])[kind]
    first = client.get(url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and len(etag) == 34
    assert first["Cache-Control"] == "public, max-age=5"
    assert {"Cookie", "Authorization"} <= _vary(first)
    snapshot = LeaderboardSnapshot.objects.get(phase=live["phase"], split="public")
    assert last_modified == snapshot.refreshed_at.strftime("%a, %d %b %Y %H:%M:%S GMT")

    for headers in ({"HTTP_IF_NONE_MATCH": etag}, {"HTTP_IF_MODIFIED_SINCE": last_modified}):
        with CaptureQueriesContext(connection) as queries:
            again = client.get(url, **headers)
        assert again.status_code == 304 and again.content == b""
        assert _reads_of(queries.captured_queries) == []  # no board row, no CSV text
        assert (again["ETag"], again["Last-Modified"], again["Cache-Control"]) == (
            etag, last_modified, "public, max-age=5")
        assert {"Cookie", "Authorization"} <= _vary(again)

    stale = client.get(url, HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200 and stale["ETag"] == etag


def test_304_costs_the_phase_and_snapshot_queries_only(client, live, django_assert_num_queries):
    url = _urls(live["phase"])["api"]
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(1):  # the phase (with track and challenge) with its snapshots
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_a_new_score_changes_the_validators(client, live, kind):
    url = _urls(live["phase"])[kind]
    before = client.get(url)
    _scored(live["phase"], live["alpha"], 0.93, 0.41)
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert b"0.93" in after.content


def test_pages_and_queries_have_their_own_validators(client, live):
    urls = _urls(live["phase"])
    etags = {client.get(url)["ETag"] for url in (
        urls["api"], urls["api"] + "?limit=1", urls["api"] + "?offset=1", urls["api"] + "?split=public",
        urls["api_csv"], urls["page"], urls["page"] + "?page=2")}
    assert len(etags) == 7
    assert client.get(urls["api"] + "?limit=1")["ETag"] == client.get(urls["api"] + "?limit=1")["ETag"]


def test_organiser_views_are_private_and_never_stored(client, live):
    urls = _urls(live["phase"])
    anonymous = {kind: client.get(url)["ETag"] for kind, url in urls.items()}
    client.force_login(live["organiser"])
    for kind, url in (*urls.items(), ("private", urls["api"] + "?split=private")):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        assert {"Cookie", "Authorization"} <= _vary(response)
        assert response["ETag"] != anonymous.get(kind)  # organisers see more (the private split): never the same


def test_members_views_are_private_and_the_page_is_the_members_own(client, live):
    urls = _urls(live["phase"])
    anonymous = {kind: client.get(url)["ETag"] for kind, url in urls.items()}
    client.force_login(live["alpha_user"])
    responses = {kind: client.get(url) for kind, url in urls.items()}
    for response in responses.values():
        assert response["Cache-Control"] == "private, max-age=0"
        assert {"Cookie", "Authorization"} <= _vary(response)
    assert responses["page"]["ETag"] != anonymous["page"]  # names the reader, marks their team
    # The first page set the form-token cookie its sign-out form is bound to: the page from then on is stable.
    etag = client.get(urls["page"])["ETag"]
    again = client.get(urls["page"], HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["Cache-Control"] == "private, max-age=0"

    client.force_login(UserFactory(username="bravo-too"))  # another reader never gets alpha's page as 304
    assert client.get(urls["page"], HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_members_api_token_views_are_private(client, live):
    from arena.tokens.services import api_token_create

    issued = api_token_create(user=live["alpha_user"], name="script")
    response = client.get(_urls(live["phase"])["api"], HTTP_AUTHORIZATION=f"Token {issued.raw}")
    assert response.status_code == 200 and response["Cache-Control"] == "private, max-age=0"
    assert {"Cookie", "Authorization"} <= _vary(response)


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_hidden_board_validators_do_not_move_with_hidden_scores(client, kind):
    w = _world(board_visibility=BoardVisibility.HIDDEN)
    _scored(w["phase"], w["alpha"], 0.61, 0.52)
    url = _urls(w["phase"])[kind]
    before = client.get(url)
    assert before.status_code == 403 and "Last-Modified" not in before
    _scored(w["phase"], w["bravo"], 0.74, 0.33)
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 403  # a refusal is never answered 304
    assert after["ETag"] == before["ETag"] and after["Cache-Control"] == "public, max-age=5"

    client.force_login(w["organiser"])
    organiser = client.get(url)
    assert organiser.status_code == 200 and organiser["Cache-Control"] == "private, no-store"


def test_frozen_board_validators_do_not_move_with_entries_after_the_freeze(client, clock):  # noqa: F811
    start = clock.now()
    w = _world(board_visibility=BoardVisibility.FROZEN, frozen_at=start + timedelta(hours=1))
    phase = w["phase"]
    _scored(phase, w["alpha"], 0.61, 0.52, at=start)
    clock.advance(hours=2)
    urls = _urls(phase)
    before = {kind: client.get(url) for kind, url in urls.items()}
    clock.advance(minutes=5)
    _scored(phase, w["bravo"], 0.74, 0.33, at=clock.now())  # after the freeze: hidden until the reveal
    for kind, url in urls.items():
        after = client.get(url, HTTP_IF_NONE_MATCH=before[kind]["ETag"])
        assert after.status_code == 304, kind
        assert (after["ETag"], after["Last-Modified"]) == (before[kind]["ETag"], before[kind]["Last-Modified"])
    client.force_login(w["organiser"])
    live_board = client.get(urls["api"]).json()
    assert [e["team_name"] for e in live_board["entries"]] == ["Bravo", "Alpha"]


def test_public_validators_do_not_move_when_only_the_private_board_changes(client, clock):  # noqa: F811
    from arena.challenges.models import EntryRule

    w = _world(entry_rule=EntryRule.SELECTED)
    phase = w["phase"]
    _scored(phase, w["alpha"], 0.61, 0.52)  # counts everywhere until the team selects another
    clock.advance(minutes=1)
    second = _scored(phase, w["alpha"], 0.40, 0.88)
    clock.advance(minutes=1)
    urls = _urls(phase)
    public = {kind: client.get(url) for kind, url in urls.items()}
    client.force_login(w["organiser"])
    private = client.get(urls["api"] + "?split=private")
    client.logout()
    Submission.objects.filter(pk=second.pk).update(is_selected=True)  # the final entry counts on the private board
    leaderboard_refresh(phase_id=phase.pk)
    for kind, url in urls.items():
        again = client.get(url, HTTP_IF_NONE_MATCH=public[kind]["ETag"])
        assert again.status_code == 304 and again["Last-Modified"] == public[kind]["Last-Modified"], kind
    client.force_login(w["organiser"])
    changed = client.get(urls["api"] + "?split=private", HTTP_IF_NONE_MATCH=private["ETag"])
    assert changed.status_code == 200 and changed.json()["entries"][0]["score"] == 0.88


def test_the_reveal_moves_the_validators(client, clock, live):  # noqa: F811
    from arena.challenges.services import phase_reveal_results

    url = _urls(live["phase"])["api"]
    before = client.get(url)
    clock.advance(minutes=1)  # Last-Modified counts whole seconds
    phase_reveal_results(actor=live["organiser"], phase=live["phase"])
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.json()["revealed"] is True
    assert client.get(url + "?split=private", HTTP_IF_MODIFIED_SINCE=before["Last-Modified"]).status_code == 200


def test_a_page_with_a_message_is_rendered_and_kept_private(client, live):
    from django.contrib.messages import SUCCESS
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    url = _urls(live["phase"])["page"]
    client.force_login(live["alpha_user"])
    client.get(url)
    etag = client.get(url)["ETag"]
    storage, carrier = CookieStorage(RequestFactory().get(url)), HttpResponse()
    storage.add(SUCCESS, "Your team changed its name.")
    storage.update(carrier)
    client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and b"Your team changed its name." in response.content
    assert response["Cache-Control"] == "private, max-age=0"
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304  # the message is read: back to 304s


def test_switched_off_boards_send_no_validators(client, live, settings):
    settings.ARENA_BOARD_CONDITIONAL = False
    for url in _urls(live["phase"]).values():
        response = client.get(url, HTTP_IF_MODIFIED_SINCE="Fri, 01 Jan 2100 00:00:00 GMT")
        assert response.status_code == 200 and "ETag" not in response


def test_the_shared_cache_lifetime_is_a_setting(client, live, settings):
    settings.ARENA_BOARD_CACHE_SECONDS = 0
    assert client.get(_urls(live["phase"])["api"])["Cache-Control"] == "public, max-age=0"
