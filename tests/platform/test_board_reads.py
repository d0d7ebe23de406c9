"""The board read path (``arena.leaderboards.caching``): the phase and snapshot read by queries compiled once,
equal to the ORM's; and full answers kept per web process by path and ETag (``board_bodies``), served again only
while the board is unchanged, never to a reader who would see something else, bounded in size."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

from arena.challenges.models import BoardVisibility
from arena.leaderboards.caching import (
    BOARD_PHASE_COLUMNS,
    SNAPSHOT_COLUMNS,
    BoardBodies,
    board_bodies,
    board_phase,
    board_phase_and_snapshots,
    board_phases,
    board_read,
)
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from tests.platform.factories import PhaseFactory, TeamFactory, UserFactory
from tests.platform.test_board_caching import _scored, _urls

pytestmark = pytest.mark.django_db

ENTRIES_TABLE = LeaderboardEntry._meta.db_table


@pytest.fixture(autouse=True)
def _empty_stores():
    board_bodies.clear()
    cache.clear()
    yield
    board_bodies.clear()
    cache.clear()


@pytest.fixture
def live() -> dict:
    organiser, member = UserFactory(username="organiser"), UserFactory(username="alpha-member")
    phase = PhaseFactory(track__challenge__organisers=[organiser])
    alpha = TeamFactory(challenge=phase.track.challenge, name="Alpha", members=[member])
    bravo = TeamFactory(challenge=phase.track.challenge, name="Bravo")
    _scored(phase, alpha, 0.61, 0.52)
    _scored(phase, bravo, 0.74, 0.33)
    return {"phase": phase, "alpha": alpha, "bravo": bravo, "organiser": organiser, "member": member}


def _row_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if ENTRIES_TABLE in q["sql"]]


def _path(obj, name: str):
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj


def test_the_compiled_phase_read_equals_the_orms(live, django_assert_num_queries):
    from datetime import timedelta

    from arena.challenges.models import Phase

    phase = live["phase"]
    Phase.objects.filter(pk=phase.pk).update(frozen_at=phase.closes_at - timedelta(days=1),
                                             board_visibility=BoardVisibility.FROZEN,
                                             robustness_protocol={"summary": "mean"})
    for _ in range(2):  # compiling, then compiled
        with django_assert_num_queries(1):
            compiled = board_phase(phase_id=phase.pk)
            values = {name: _path(compiled, name) for name in BOARD_PHASE_COLUMNS}  # nothing loaded later
        orm = board_phases().get(pk=phase.pk)
        assert values == {name: _path(orm, name) for name in BOARD_PHASE_COLUMNS}
        assert type(compiled.track.challenge) is type(orm.track.challenge) and compiled.has_public_split
        assert compiled.get_deferred_fields() == orm.get_deferred_fields()
    assert board_phase(phase_id=phase.pk + 1000) is None


def test_the_phase_and_its_snapshots_are_read_by_one_query_equal_to_the_orms(live, django_assert_num_queries):
    phase = live["phase"]
    for _ in range(2):  # compiling, then compiled
        with django_assert_num_queries(1):
            read, snapshots = board_phase_and_snapshots(phase_id=phase.pk)
            values = {name: _path(read, name) for name in BOARD_PHASE_COLUMNS}
            stored = {split: [getattr(s, name) for name in SNAPSHOT_COLUMNS] for split, s in snapshots.items()}
        assert values == {name: _path(board_phase(phase_id=phase.pk), name) for name in BOARD_PHASE_COLUMNS}
        assert read.get_deferred_fields() == board_phase(phase_id=phase.pk).get_deferred_fields()
        assert stored == {s.split: [getattr(s, name) for name in SNAPSHOT_COLUMNS]
                          for s in LeaderboardSnapshot.objects.filter(phase=phase)}
        assert set(stored) == {"public", "private"} and all(s.phase is read for s in snapshots.values())
    fresh = PhaseFactory()  # no stored board yet: the phase's own query
    with django_assert_num_queries(2):
        assert board_phase_and_snapshots(phase_id=fresh.pk)[0].pk == fresh.pk
    assert board_phase_and_snapshots(phase_id=phase.pk + 1000) == (None, {})


def test_the_compiled_snapshot_read_equals_the_orms(live):
    from django.contrib.auth.models import AnonymousUser

    read = board_read(phase=board_phase(phase_id=live["phase"].pk), split="public", user=AnonymousUser())
    orm = LeaderboardSnapshot.objects.only(*SNAPSHOT_COLUMNS).get(phase=live["phase"], split="public")
    assert [getattr(read.snapshot, f) for f in ("pk", "split", "rows", "refreshed_at", "statistics_refreshed_at")] \
        == [getattr(orm, f) for f in ("pk", "split", "rows", "refreshed_at", "statistics_refreshed_at")]
    assert read.snapshot.refreshed_at.tzinfo is not None


def test_unknown_and_unpublished_phases_are_not_found(client, live):
    from arena.challenges.models import Challenge

    assert client.get(f"/api/v1/phases/{live['phase'].pk + 1000}/leaderboard").status_code == 404
    Challenge.objects.filter(pk=live["phase"].track.challenge_id).update(is_published=False)
    for kind in ("api", "api_csv"):
        assert client.get(_urls(live["phase"])[kind]).status_code == 404
        client.force_login(live["organiser"])
        assert client.get(_urls(live["phase"])[kind]).status_code == 200
        client.logout()


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_a_repeated_read_of_an_unchanged_board_reads_no_row(client, live, kind):
    url = _urls(live["phase"])[kind]
    first = client.get(url)
    assert first.status_code == 200 and len(board_bodies) == 1
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert _row_reads(queries.captured_queries) == []
    assert {name: again[name] for name in ("ETag", "Last-Modified", "Cache-Control", "Content-Type")} == {
        name: first[name] for name in ("ETag", "Last-Modified", "Cache-Control", "Content-Type")}
    assert again.get("Content-Disposition") == first.get("Content-Disposition")


def test_a_warm_api_read_costs_the_phase_and_snapshot_queries_only(client, live, django_assert_num_queries):
    url = _urls(live["phase"])["api"]
    with django_assert_num_queries(2):  # the phase (only the columns a board read needs) with its snapshots, the rows
        cold = client.get(url)
    with django_assert_num_queries(1):
        warm = client.get(url)
    assert warm.content == cold.content


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_a_new_score_is_on_the_very_next_read(client, live, kind):
    url = _urls(live["phase"])[kind]
    client.get(url)
    client.get(url)  # served from the store
    _scored(live["phase"], live["alpha"], 0.93, 0.41)
    after = client.get(url)
    assert after.status_code == 200 and b"0.93" in after.content


def test_the_api_answer_is_shared_by_anonymous_readers_and_members_only(client, live):
    url = _urls(live["phase"])["api"]
    anonymous = client.get(url)
    client.force_login(live["member"])
    member = client.get(url)
    assert member.content == anonymous.content and member["Cache-Control"] == "private, max-age=0"
    assert len(board_bodies) == 1

    client.force_login(live["organiser"])
    organiser = client.get(url)
    assert organiser.json()["visible_splits"] == ["public", "private"]
    assert organiser.content != anonymous.content and organiser["Cache-Control"] == "private, no-store"
    assert len(board_bodies) == 1  # an organiser's answer is never kept
    client.logout()
    assert client.get(url).content == anonymous.content


def test_a_page_naming_its_reader_is_never_kept_nor_given_the_shared_copy(client, live):
    url = _urls(live["phase"])["page"]
    anonymous = client.get(url)
    assert len(board_bodies) == 1
    client.force_login(live["member"])
    member = client.get(url)
    assert b"alpha-member" in member.content and b"alpha-member" not in anonymous.content
    assert b"data-own-team" in member.content and b"data-own-team" not in anonymous.content
    assert len(board_bodies) == 1
    client.logout()
    assert client.get(url).content == anonymous.content


def test_each_window_and_query_has_its_own_answer(client, live):
    url = _urls(live["phase"])["api"]
    full, one, skipped = (client.get(url + query).json() for query in ("", "?limit=1", "?offset=1"))
    assert [e["team_name"] for e in full["entries"]] == ["Bravo", "Alpha"]
    assert [e["team_name"] for e in one["entries"]] == ["Bravo"]
    assert [e["team_name"] for e in skipped["entries"]] == ["Alpha"]
    assert [e["team_name"] for e in client.get(url + "?limit=1").json()["entries"]] == ["Bravo"]
    assert len(board_bodies) == 3


@pytest.mark.parametrize("kind", ["api", "api_csv", "page", "page_csv"])
def test_refusals_are_never_kept(client, kind):
    phase = PhaseFactory(board_visibility=BoardVisibility.HIDDEN)
    _scored(phase, TeamFactory(challenge=phase.track.challenge), 0.61, 0.52)
    url = _urls(phase)[kind]
    assert [client.get(url).status_code for _ in range(2)] == [403, 403]
    assert len(board_bodies) == 0


def test_a_reveal_is_on_the_very_next_read(client, live):
    from arena.challenges.services import phase_reveal_results

    url = _urls(live["phase"])["api"] + "?split=private"
    assert client.get(url).status_code == 403
    client.get(_urls(live["phase"])["api"])
    phase_reveal_results(actor=live["organiser"], phase=live["phase"])
    private = client.get(url)
    assert private.status_code == 200 and [e["score"] for e in private.json()["entries"]] == [0.52, 0.33]
    assert client.get(_urls(live["phase"])["api"]).json()["revealed"] is True


def test_switched_off_the_store_keeps_nothing(client, live, settings):
    settings.ARENA_BOARD_BODY_CACHE_MB = 0
    url = _urls(live["phase"])["api"]
    assert client.get(url).content == client.get(url).content
    assert len(board_bodies) == 0


def test_the_store_is_bounded_and_drops_the_least_recently_used(settings):
    settings.ARENA_BOARD_BODY_CACHE_MB = 250 / (1024 * 1024)  # 250 bytes
    store = BoardBodies()
    for etag in ("a", "b"):
        store.put(etag, HttpResponse(b"x" * 100, content_type="text/csv"))
    assert store.get("a").content == b"x" * 100  # "a" used: "b" is now the oldest
    store.put("c", HttpResponse(b"y" * 100))
    assert (store.get("b"), store.get("a")["Content-Type"], store.get("c").content) == (None, "text/csv", b"y" * 100)
    store.put("big", HttpResponse(b"z" * 300))  # larger than the whole store: not kept, nothing dropped
    assert (store.get("big"), len(store)) == (None, 2)


def test_the_compiled_page_phase_read_equals_the_selector(live):
    from django.contrib.auth.models import AnonymousUser

    from arena.challenges.models import Challenge
    from arena.challenges.selectors import phase_visible_by_slugs
    from arena.leaderboards.caching import board_page_phase

    phase = live["phase"]
    slugs = {"slug": phase.track.challenge.slug, "track_slug": phase.track.slug, "phase_slug": phase.slug}

    def fields(obj) -> dict:
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    for _ in range(2):  # compiling, then compiled
        compiled = board_page_phase(user=AnonymousUser(), **slugs)
        selected = phase_visible_by_slugs(user=AnonymousUser(), **slugs)
        assert compiled.get_deferred_fields() == set()
        for read, orm in ((compiled, selected), (compiled.track, selected.track),
                          (compiled.track.challenge, selected.track.challenge)):
            assert fields(read) == fields(orm)
    assert board_page_phase(user=AnonymousUser(), **{**slugs, "phase_slug": "other"}) is None
    Challenge.objects.filter(pk=phase.track.challenge_id).update(is_published=False)
    for user in (AnonymousUser(), live["member"], live["organiser"]):
        assert (board_page_phase(user=user, **slugs) is None) == (phase_visible_by_slugs(user=user, **slugs) is None)
    assert board_page_phase(user=live["organiser"], **slugs) is not None


def test_the_page_phase_and_its_snapshots_are_read_by_one_query(live, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    from arena.leaderboards.caching import board_page_phase, board_page_phase_and_snapshots

    phase = live["phase"]
    slugs = {"slug": phase.track.challenge.slug, "track_slug": phase.track.slug, "phase_slug": phase.slug}
    for _ in range(2):  # compiling, then compiled
        with django_assert_num_queries(1):
            read, snapshots = board_page_phase_and_snapshots(user=AnonymousUser(), **slugs)
        assert read.get_deferred_fields() == set() and all(s.phase is read for s in snapshots.values())
        assert {split: [getattr(s, name) for name in SNAPSHOT_COLUMNS] for split, s in snapshots.items()} == {
            s.split: [getattr(s, name) for name in SNAPSHOT_COLUMNS] for s in LeaderboardSnapshot.objects.filter(
                phase=phase)}
        assert {name: _path(read, name) for name in BOARD_PHASE_COLUMNS} == {
            name: _path(board_phase(phase_id=phase.pk), name) for name in BOARD_PHASE_COLUMNS}
    fresh = PhaseFactory()  # no stored board yet: the phase's own query
    fresh_slugs = {"slug": fresh.track.challenge.slug, "track_slug": fresh.track.slug, "phase_slug": fresh.slug}
    with django_assert_num_queries(2):
        fresh_read = board_page_phase_and_snapshots(user=AnonymousUser(), **fresh_slugs)
    assert fresh_read == (board_page_phase(user=AnonymousUser(), **fresh_slugs), {})


def test_the_page_validators_follow_the_questions_the_board_shows(client, live):
    from arena.factsheets.models import Question, QuestionKind

    url = _urls(live["phase"])["page"]
    shown = Question.objects.create(phase=live["phase"], key="data", text="Uses external data?",
                                    kind=QuestionKind.YES_NO, order=2, on_leaderboard=True)
    etags = [client.get(url)["ETag"]]
    Question.objects.create(phase=live["phase"], key="paper", text="Paper URL", kind=QuestionKind.URL, order=1)
    etags.append(client.get(url)["ETag"])  # a question the board does not show: the same page
    Question.objects.create(phase=live["phase"], key="backbone", text="Backbone", kind=QuestionKind.TEXT, order=1,
                            on_leaderboard=True)
    etags.append(client.get(url)["ETag"])
    Question.objects.filter(pk=shown.pk).update(text="Uses outside data?")
    etags.append(client.get(url)["ETag"])
    assert etags[0] == etags[1] and len(set(etags)) == 3
    page = client.get(url).content.decode()
    assert "Uses outside data?" in page and "Backbone" in page and "Paper URL" not in page  # no copy kept
