"""Hidden and frozen boards through pages, API and CSV, as each role, before and after reveal and freeze.

Roles: anonymous, a member of team Alpha (A), a member of team Bravo (B), an organiser. Scores are
distinctive strings (0.8123...), so "not in the body" checks catch any leak of a hidden score.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import BoardVisibility, EntryRule
from arena.challenges.services import phase_hide_results, phase_reveal_results, phases_reveal_closed
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services.notify import notify_team_of_result
from tests.platform.clock import clock  # noqa: F401
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "alpha", "bravo", "organiser"]
PARTICIPANTS = ["anonymous", "alpha", "bravo"]
HIDDEN_MESSAGE = "The leaderboards of this phase are hidden until the organisers reveal the results."
PRIVATE_HIDDEN_MESSAGE = "The private leaderboard of this phase is hidden until the organisers reveal the results."
NO_PUBLIC_MESSAGE = ("This phase is scored on its hidden split only, so it has no public leaderboard; its results "
                     "are on the private leaderboard once the organisers reveal the results.")
NO_PUBLIC_REVEALED_MESSAGE = ("This phase is scored on its hidden split only, so it has no public leaderboard; its "
                              "results are on the private leaderboard.")
ORGANISERS_ONLY_MESSAGE = ("Only organisers can open the frozen board by name; teams see it as the public board.")
SCORED_HIDDEN_NOTE = "Scored; the scores stay hidden until the results are revealed."


# --- building blocks -------------------------------------------------------------------------------------------


def _world(**phase_fields) -> dict:
    organiser = UserFactory(username="organiser")
    alpha_user, bravo_user = UserFactory(username="alpha-member"), UserFactory(username="bravo-member")
    phase = PhaseFactory(track__challenge__organisers=[organiser], track__challenge__title="Blind MER",
                         **phase_fields)
    challenge = phase.track.challenge
    alpha = TeamFactory(challenge=challenge, name="Alpha", members=[alpha_user])
    bravo = TeamFactory(challenge=challenge, name="Bravo", members=[bravo_user])
    return {"phase": phase, "alpha": alpha, "bravo": bravo, "organiser": organiser,
            "users": {"anonymous": None, "alpha": alpha_user, "bravo": bravo_user, "organiser": organiser}}


def _scored(phase, team, public, private, *, at, method) -> Submission:
    """A scored submission of ``team`` submitted at ``at`` (public or private score may be None)."""
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name=method)
    Submission.objects.filter(pk=sub.pk).update(created_at=at)
    for split, score in (("public", public), ("private", private)):
        if score is not None:
            SubmissionScore.objects.create(submission=sub, split=split, score=score,
                                           metrics={"waf": score, "accuracy": 0.5})
    sub.refresh_from_db()
    return sub


def _as(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def _page(phase) -> str:
    return f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"


def _api_rows(response) -> list[tuple]:
    return [(e["rank"], e["team_name"], e["score"]) for e in response.json()["entries"]]


def _csv_rows(content: bytes) -> list[list[str]]:
    """Rows of a CSV export without the header: (rank, team, score) columns of public/frozen boards."""
    lines = content.decode().splitlines()
    header = lines[0].split(",")
    cols = [header.index(name) for name in ("rank", "team", "score")]
    return [[line.split(",")[c] for c in cols] for line in lines[1:]]


def _page_rows(content: bytes) -> list[tuple[str, str, str]]:
    """(rank, team, score) of each row of the leaderboard table of the HTML page."""
    html = content.decode()
    body = html.split('<table id="leaderboard">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", tr, flags=re.S)
        at = next((i for i, (attrs, _) in enumerate(cells) if 'class="score"' in attrs), None)
        if at is None:  # "No scored entries yet."
            continue
        # The reader's own row also says "(your team)"; the names are compared here.
        text = [re.sub(r"<[^>]+>", "", value.split('<strong class="you-badge">')[0]).strip() for _, value in cells]
        rows.append((text[0], text[at - 2], text[at]))  # rank, team (before the method), score
    return rows


def _leaks(body: bytes, *scores: str) -> list[str]:
    return [s for s in scores if s.encode() in body]


# --- 1. hidden board -------------------------------------------------------------------------------------------


@pytest.fixture
def hidden():
    w = _world(board_visibility=BoardVisibility.HIDDEN)
    now = timezone.now()
    w["a_sub"] = _scored(w["phase"], w["alpha"], 0.8123, 0.6345, at=now - timedelta(hours=2), method="Alpha net")
    w["b_sub"] = _scored(w["phase"], w["bravo"], 0.7456, 0.9012, at=now - timedelta(hours=1), method="Bravo net")
    leaderboard_refresh(phase_id=w["phase"].pk)
    return w


HIDDEN_SCORES = ("0.8123", "0.6345", "0.7456", "0.9012")
PUBLIC_ROWS = [(1, "Alpha", 0.8123), (2, "Bravo", 0.7456)]
PRIVATE_ROWS = [(1, "Bravo", 0.9012), (2, "Alpha", 0.6345)]


@pytest.mark.parametrize("who", PARTICIPANTS)
def test_hidden_board_refuses_every_board_to_participants_before_the_reveal(client, hidden, who):
    phase = hidden["phase"]
    client = _as(client, hidden["users"][who])
    for split in ("public", "private"):
        page = client.get(f"{_page(phase)}leaderboard/?split={split}")
        assert page.status_code == 403
        assert HIDDEN_MESSAGE.encode() in page.content
        assert 'id="leaderboard"' not in page.content.decode()
        assert _leaks(page.content, *HIDDEN_SCORES) == []
        assert b"Download CSV" not in page.content

        api = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split={split}")
        assert (api.status_code, api.json()) == (403, {"code": "board_hidden", "message": HIDDEN_MESSAGE,
                                                       "details": {}})
        api_csv = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split={split}")
        assert api_csv.status_code == 403 and api_csv.json()["code"] == "board_hidden"
        assert _leaks(api_csv.content, *HIDDEN_SCORES) == []

        page_csv = client.get(f"{_page(phase)}leaderboard.csv?split={split}")
        assert (page_csv.status_code, page_csv.content.decode()) == (403, HIDDEN_MESSAGE)
    # Nor may anyone but organisers open a "frozen" board of a phase that does not freeze.
    assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=frozen").json()["code"] == "invalid"


def test_hidden_board_is_open_to_organisers_before_the_reveal(client, hidden):
    phase = hidden["phase"]
    client = _as(client, hidden["organiser"])
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert public.status_code == 200 and _api_rows(public) == PUBLIC_ROWS
    body = public.json()
    assert (body["board_visibility"], body["revealed"], body["frozen_at"], body["visible_splits"]) == (
        "hidden", False, None, ["public", "private"])
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert _api_rows(private) == PRIVATE_ROWS
    page = client.get(f"{_page(phase)}leaderboard/?split=private")
    assert page.status_code == 200
    assert _page_rows(page.content) == [("1", "Bravo", "0.9012"), ("2", "Alpha", "0.6345")]
    csv = client.get(f"{_page(phase)}leaderboard.csv")
    assert csv.status_code == 200 and _csv_rows(csv.content) == [["1", "Alpha", "0.8123"], ["2", "Bravo", "0.7456"]]


def test_hidden_board_team_sees_its_submission_scored_without_scores(client, hidden):
    phase, sub = hidden["phase"], hidden["a_sub"]
    client = _as(client, hidden["users"]["alpha"])
    detail = client.get(f"/submissions/{sub.pk}/")
    assert detail.status_code == 200
    assert b'data-status="scored"' in detail.content and SCORED_HIDDEN_NOTE.encode() in detail.content
    assert _leaks(detail.content, *HIDDEN_SCORES) == []

    api = client.get(f"/api/v1/submissions/{sub.pk}")
    assert api.status_code == 200 and (api.json()["status"], api.json()["scores"]) == ("scored", {})
    mine = client.get("/api/v1/submissions")
    assert [(s["id"], s["status"], s["scores"]) for s in mine.json()] == [(sub.pk, "scored", {})]
    assert _leaks(mine.content, *HIDDEN_SCORES) == []

    page = client.get(_page(phase))
    assert page.status_code == 200
    assert b"Public score" not in page.content and b'class="score"' not in page.content
    assert _leaks(page.content, *HIDDEN_SCORES) == []


@pytest.mark.parametrize("who", ROLES)
def test_hidden_board_shows_everything_after_the_reveal(client, hidden, who):
    phase = hidden["phase"]
    assert phase_reveal_results(actor=hidden["organiser"], phase=phase) is True
    client = _as(client, hidden["users"][who])
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert public.status_code == 200 and _api_rows(public) == PUBLIC_ROWS
    assert (public.json()["revealed"], public.json()["frozen_at"]) == (True, None)
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert private.status_code == 200 and _api_rows(private) == PRIVATE_ROWS
    assert [e["public_rank"] for e in private.json()["entries"]] == [2, 1]
    page = client.get(f"{_page(phase)}leaderboard/")
    assert page.status_code == 200
    assert _page_rows(page.content) == [("1", "Alpha", "0.8123"), ("2", "Bravo", "0.7456")]
    private_page = client.get(f"{_page(phase)}leaderboard/?split=private")
    assert _page_rows(private_page.content) == [("1", "Bravo", "0.9012"), ("2", "Alpha", "0.6345")]
    for path in (f"/api/v1/phases/{phase.pk}/leaderboard.csv", f"{_page(phase)}leaderboard.csv"):
        csv = client.get(path)
        assert csv.status_code == 200
        assert _csv_rows(csv.content) == [["1", "Alpha", "0.8123"], ["2", "Bravo", "0.7456"]]
        private_csv = client.get(f"{path}?split=private").content.decode().splitlines()
        assert [line.split(",")[:3] for line in private_csv[1:]] == [["1", "2", "Bravo"], ["2", "1", "Alpha"]]
        assert ",0.9012," in private_csv[1] and ",0.6345," in private_csv[2]


def test_hidden_board_team_sees_its_scores_after_the_reveal(client, hidden):
    phase, sub = hidden["phase"], hidden["a_sub"]
    phase_reveal_results(actor=hidden["organiser"], phase=phase)
    client = _as(client, hidden["users"]["alpha"])
    api = client.get(f"/api/v1/submissions/{sub.pk}").json()
    assert {split: s["score"] for split, s in api["scores"].items()} == {"public": 0.8123, "private": 0.6345}
    detail = client.get(f"/submissions/{sub.pk}/")
    assert b"0.812300" in detail.content and b"0.634500" in detail.content
    assert SCORED_HIDDEN_NOTE.encode() not in detail.content
    page = client.get(_page(phase))
    assert b"Public score" in page.content and b'<td class="score">0.8123</td>' in page.content
    assert b"0.7456" not in page.content  # the other team's score is never on the team's own list


def test_hiding_again_after_a_reveal_hides_everything(client, hidden):
    phase = hidden["phase"]
    phase_reveal_results(actor=hidden["organiser"], phase=phase)
    assert phase_hide_results(actor=hidden["organiser"], phase=phase) is True
    client = _as(client, hidden["users"]["bravo"])
    assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()["code"] == "board_hidden"
    assert client.get(f"/api/v1/submissions/{hidden['b_sub'].pk}").json()["scores"] == {}


# --- 2. frozen board -------------------------------------------------------------------------------------------


@pytest.fixture
def frozen(clock):  # noqa: F811
    """Frozen at T+1h (T: now). Before it: Alpha 0.6111, Bravo 0.7456; after it (at T+90m): Alpha 0.8123."""
    start = clock.now()
    w = _world(board_visibility=BoardVisibility.FROZEN, frozen_at=start + timedelta(hours=1))
    phase = w["phase"]
    w["a_early"] = _scored(phase, w["alpha"], 0.6111, 0.4111, at=start - timedelta(hours=2), method="Alpha v1")
    w["b_early"] = _scored(phase, w["bravo"], 0.7456, 0.5456, at=start - timedelta(hours=1), method="Bravo v1")
    leaderboard_refresh(phase_id=phase.pk)
    w["clock"], w["start"] = clock, start
    return w


def _freeze_and_submit_late(w) -> Submission:
    """Move past the freeze and add Alpha's late entry (submitted after frozen_at)."""
    w["clock"].advance(hours=2)
    late = _scored(w["phase"], w["alpha"], 0.8123, 0.6345, at=w["start"] + timedelta(minutes=90),
                   method="Alpha v2")
    leaderboard_refresh(phase_id=w["phase"].pk)
    return late


FROZEN_ROWS = [(1, "Bravo", 0.7456), (2, "Alpha", 0.6111)]
LIVE_ROWS = [(1, "Alpha", 0.8123), (2, "Bravo", 0.7456)]
LIVE_PRIVATE_ROWS = [(1, "Alpha", 0.6345), (2, "Bravo", 0.5456)]


@pytest.mark.parametrize("who", PARTICIPANTS)
def test_frozen_board_is_live_before_the_freeze(client, frozen, who):
    phase = frozen["phase"]
    client = _as(client, frozen["users"][who])
    frozen["clock"].advance(minutes=30)  # still before frozen_at
    api = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert api.status_code == 200 and _api_rows(api) == FROZEN_ROWS  # every entry so far is pre-freeze
    body = api.json()
    assert (body["board_visibility"], body["revealed"], body["frozen_at"], body["visible_splits"]) == (
        "frozen", False, None, ["public"])
    page = client.get(f"{_page(phase)}leaderboard/")
    assert page.status_code == 200 and b'id="frozen-note"' not in page.content
    assert b"The public leaderboard is live until" in page.content
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert (private.status_code, private.json()["code"]) == (403, "private_hidden")
    assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=frozen").json()["code"] == "organisers_only"


@pytest.mark.parametrize("who", PARTICIPANTS)
def test_frozen_board_after_the_freeze_shows_participants_only_pre_freeze_entries(client, frozen, who):
    phase = frozen["phase"]
    _freeze_and_submit_late(frozen)
    client = _as(client, frozen["users"][who])
    api = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert api.status_code == 200 and _api_rows(api) == FROZEN_ROWS
    body = api.json()
    assert body["frozen_at"] == phase.frozen_at.isoformat().replace("+00:00", "Z")
    assert (body["split"], body["count"], body["revealed"], body["visible_splits"]) == ("public", 2, False,
                                                                                       ["public"])
    assert _leaks(api.content, "0.8123", "0.6345") == []
    # Nothing of the late entry, not even that there was one.
    assert [(e["method_name"], e["entries_count"]) for e in body["entries"]] == [("Bravo v1", 1), ("Alpha v1", 1)]

    page = client.get(f"{_page(phase)}leaderboard/")
    assert page.status_code == 200
    assert _page_rows(page.content) == [("1", "Bravo", "0.7456"), ("2", "Alpha", "0.6111")]
    assert b'id="frozen-note"' in page.content and b"Alpha v2" not in page.content
    assert _leaks(page.content, "0.8123", "0.6345") == []

    for path in (f"/api/v1/phases/{phase.pk}/leaderboard.csv", f"{_page(phase)}leaderboard.csv"):
        csv = client.get(path)
        assert csv.status_code == 200
        assert _csv_rows(csv.content) == [["1", "Bravo", "0.7456"], ["2", "Alpha", "0.6111"]]
        assert _leaks(csv.content, "0.8123", "0.6345") == []

    named = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=frozen")
    assert (named.status_code, named.json()) == (403, {"code": "organisers_only", "message": ORGANISERS_ONLY_MESSAGE,
                                                       "details": {}})
    assert client.get(f"{_page(phase)}leaderboard/?split=frozen").status_code == 403
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert (private.status_code, private.json()["code"], private.json()["message"]) == (
        403, "private_hidden", PRIVATE_HIDDEN_MESSAGE)
    private_csv = client.get(f"{_page(phase)}leaderboard.csv?split=private")
    assert (private_csv.status_code, private_csv.content.decode()) == (403, PRIVATE_HIDDEN_MESSAGE)


def test_frozen_board_after_the_freeze_organisers_see_live_and_frozen_boards(client, frozen):
    phase = frozen["phase"]
    _freeze_and_submit_late(frozen)
    client = _as(client, frozen["organiser"])
    live = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=public")
    assert _api_rows(live) == LIVE_ROWS and live.json()["frozen_at"] is None
    assert live.json()["visible_splits"] == ["public", "private", "frozen"]
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=frozen")
    assert board.status_code == 200 and _api_rows(board) == FROZEN_ROWS
    assert board.json()["frozen_at"] == phase.frozen_at.isoformat().replace("+00:00", "Z")
    assert _api_rows(client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")) == LIVE_PRIVATE_ROWS
    page = client.get(f"{_page(phase)}leaderboard/?split=frozen")
    assert page.status_code == 200 and _page_rows(page.content) == [("1", "Bravo", "0.7456"),
                                                                    ("2", "Alpha", "0.6111")]
    csv = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=frozen")
    assert _csv_rows(csv.content) == [["1", "Bravo", "0.7456"], ["2", "Alpha", "0.6111"]]
    live_csv = client.get(f"{_page(phase)}leaderboard.csv?split=public")
    assert _csv_rows(live_csv.content) == [["1", "Alpha", "0.8123"], ["2", "Bravo", "0.7456"]]


def test_frozen_board_team_still_sees_its_own_late_score(client, frozen):
    phase = frozen["phase"]
    late = _freeze_and_submit_late(frozen)
    alpha = _as(client, frozen["users"]["alpha"])
    detail = alpha.get(f"/submissions/{late.pk}/")
    assert detail.status_code == 200
    assert b"0.812300" in detail.content and b"0.634500" not in detail.content
    api = alpha.get(f"/api/v1/submissions/{late.pk}").json()
    assert {split: s["score"] for split, s in api["scores"].items()} == {"public": 0.8123}
    page = alpha.get(_page(phase))
    assert b"Public score" in page.content and b'<td class="score">0.8123</td>' in page.content
    assert b"The public leaderboard is frozen as of" in page.content
    bravo = _as(client, frozen["users"]["bravo"])
    assert bravo.get(f"/submissions/{late.pk}/").status_code == 404
    assert _leaks(bravo.get(_page(phase)).content, "0.8123") == []


@pytest.mark.parametrize("who", ROLES)
def test_frozen_board_after_the_reveal_everyone_sees_the_live_boards(client, frozen, who):
    phase = frozen["phase"]
    _freeze_and_submit_late(frozen)
    phase_reveal_results(actor=frozen["organiser"], phase=phase)
    client = _as(client, frozen["users"][who])
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert public.status_code == 200 and _api_rows(public) == LIVE_ROWS
    assert (public.json()["revealed"], public.json()["frozen_at"]) == (True, None)
    assert _api_rows(client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")) == LIVE_PRIVATE_ROWS
    page = client.get(f"{_page(phase)}leaderboard/")
    assert page.status_code == 200 and b'id="frozen-note"' not in page.content
    assert _page_rows(page.content) == [("1", "Alpha", "0.8123"), ("2", "Bravo", "0.7456")]
    csv = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv")
    assert _csv_rows(csv.content) == [["1", "Alpha", "0.8123"], ["2", "Bravo", "0.7456"]]


# --- 3. reveal at close ----------------------------------------------------------------------------------------


def test_reveal_at_close_shows_the_results_from_the_close_and_is_stamped_once(client, clock):  # noqa: F811
    start = clock.now()
    w = _world(board_visibility=BoardVisibility.HIDDEN, reveal_at_close=True, closes_at=start + timedelta(hours=1))
    phase = w["phase"]
    _scored(phase, w["alpha"], 0.8123, 0.6345, at=start - timedelta(hours=2), method="Alpha net")
    _scored(phase, w["bravo"], 0.7456, 0.9012, at=start - timedelta(hours=1), method="Bravo net")
    leaderboard_refresh(phase_id=phase.pk)
    client = _as(client, w["users"]["bravo"])
    before = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert before.status_code == 403
    assert before.json() == {"code": "board_hidden", "details": {}, "message": (
        "The leaderboards of this phase are hidden until the results are revealed automatically when the phase "
        f"closes ({phase.closes_at:%Y-%m-%d %H:%M} UTC).")}
    assert phases_reveal_closed() == 0

    clock.advance(hours=2)  # closed; nobody has acted
    phase.refresh_from_db()
    assert phase.private_revealed_at is None
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert public.status_code == 200 and _api_rows(public) == PUBLIC_ROWS and public.json()["revealed"] is True
    assert _api_rows(client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")) == PRIVATE_ROWS
    anonymous = _as(client, None).get(f"{_page(phase)}leaderboard/?split=private")
    assert _page_rows(anonymous.content) == [("1", "Bravo", "0.9012"), ("2", "Alpha", "0.6345")]

    assert phases_reveal_closed() == 1
    assert phases_reveal_closed() == 0
    phase.refresh_from_db()
    assert phase.private_revealed_at == phase.closes_at
    audits = AuditEntry.objects.filter(action="phase.reveal_results", target_id=str(phase.pk))
    assert [(a.actor_id, a.details, a.challenge_id) for a in audits] == [(None, {"automatic": True},
                                                                          phase.track.challenge_id)]

    assert phase_hide_results(actor=w["organiser"], phase=phase) is True
    phase.refresh_from_db()
    assert (phase.private_revealed_at, phase.reveal_at_close) == (None, False)
    client = _as(client, w["users"]["bravo"])
    hidden_again = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert (hidden_again.status_code, hidden_again.json()["code"], hidden_again.json()["message"]) == (
        403, "board_hidden", HIDDEN_MESSAGE)
    assert phases_reveal_closed() == 0  # reveal at close is off: the beat does not show them again
    assert AuditEntry.objects.filter(action="phase.hide_results", target_id=str(phase.pk)).count() == 1


# --- 4. private-only phase -------------------------------------------------------------------------------------


@pytest.fixture
def private_only():
    w = _world(reference_public="", entry_rule=EntryRule.LAST)
    phase = w["phase"]
    now = timezone.now()
    _scored(phase, w["alpha"], None, 0.9012, at=now - timedelta(hours=4), method="Alpha v1")
    _scored(phase, w["bravo"], None, 0.5555, at=now - timedelta(hours=3), method="Bravo v1")
    _scored(phase, w["alpha"], None, 0.3456, at=now - timedelta(hours=2), method="Alpha v2")
    _scored(phase, w["bravo"], None, 0.7777, at=now - timedelta(hours=1), method="Bravo v2")
    leaderboard_refresh(phase_id=phase.pk)
    return w


@pytest.mark.parametrize("who", PARTICIPANTS)
def test_private_only_phase_has_no_public_board_and_reveals_each_team_s_last_entry(client, private_only, who):
    phase = private_only["phase"]
    assert not phase.has_public_split
    client = _as(client, private_only["users"][who])
    for revealed in (False, True):
        message = NO_PUBLIC_REVEALED_MESSAGE if revealed else NO_PUBLIC_MESSAGE
        public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=public")
        assert (public.status_code, public.json()) == (404, {"code": "no_public_board", "message": message,
                                                             "details": {}})
        assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=public").status_code == 404
        page = client.get(f"{_page(phase)}leaderboard/?split=public")
        assert page.status_code == 404 and message.encode() in page.content
        assert client.get(f"{_page(phase)}leaderboard.csv?split=public").status_code == 404
        # Without a split, readers get the private board: refused before the reveal, shown after it.
        default = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
        assert default.status_code == (200 if revealed else 403)
        if not revealed:
            private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
            assert (private.status_code, private.json()["code"]) == (403, "private_hidden")
            assert _leaks(client.get(f"{_page(phase)}leaderboard/?split=private").content,
                          "0.9012", "0.5555", "0.3456", "0.7777") == []
            phase_reveal_results(actor=private_only["organiser"], phase=phase)
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert private.status_code == 200
    assert [(e["rank"], e["team_name"], e["method_name"], e["score"], e["entries_count"])
            for e in private.json()["entries"]] == [(1, "Bravo", "Bravo v2", 0.7777, 2),
                                                    (2, "Alpha", "Alpha v2", 0.3456, 2)]
    assert private.json()["visible_splits"] == ["private"]
    page = client.get(f"{_page(phase)}leaderboard/?split=private")
    assert page.status_code == 200 and b"0.9012" not in page.content and b"0.5555" not in page.content


# --- 5. the scored e-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility, subject_score", [
    (BoardVisibility.HIDDEN, None), (BoardVisibility.LIVE, "0.8123"), (BoardVisibility.FROZEN, "0.8123")])
def test_scored_email_carries_the_public_score_only_where_the_team_may_see_it(
        mailoutbox, django_capture_on_commit_callbacks, visibility, subject_score):
    now = timezone.now()
    fields = {"frozen_at": now - timedelta(hours=1)} if visibility == BoardVisibility.FROZEN else {}
    w = _world(board_visibility=visibility, **fields)
    sub = _scored(w["phase"], w["alpha"], 0.8123, 0.6345, at=now, method="Alpha net")
    with django_capture_on_commit_callbacks(execute=True):
        notify_team_of_result(submission_id=sub.pk)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alpha-member@example.org"]
    if subject_score is None:
        assert mail.subject == "[Blind MER] 'Alpha net' is scored"
    else:
        assert mail.subject == f"[Blind MER] 'Alpha net' scored {subject_score}"
    assert "0.6345" not in mail.subject and "0.6345" not in mail.body  # never the private score
    assert "0.8123" not in mail.body
    assert f"/submissions/{sub.pk}/" in mail.body



def test_private_only_phase_refusal_after_the_reveal_points_at_the_private_board(client, private_only):
    phase = private_only["phase"]
    phase_reveal_results(actor=private_only["organiser"], phase=phase)
    alpha = _as(client, private_only["users"]["alpha"])
    public = alpha.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=public")
    assert (public.status_code, public.json()["code"], public.json()["message"]) == (
        404, "no_public_board", "This phase is scored on its hidden split only, so it has no public leaderboard; "
        "its results are on the private leaderboard.")
    default = alpha.get(f"/api/v1/phases/{phase.pk}/leaderboard")  # no split asked: the private board
    assert (default.status_code, default.json()["split"]) == (200, "private")
    page = alpha.get(f"{_page(phase)}leaderboard/")
    assert page.status_code == 200 and 'aria-current="page">Private<' in page.content.decode()


def test_private_only_phase_has_no_public_board_for_organisers_either(client, private_only):
    phase = private_only["phase"]
    client = _as(client, private_only["organiser"])
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert private.status_code == 200 and private.json()["visible_splits"] == ["private"]
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=public")
    assert (public.status_code, public.json()["code"]) == (404, "no_public_board")
