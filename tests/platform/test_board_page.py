"""The leaderboard page: the reader's own row, metric directions, baselines, dates and entry counts, the team
search, the top-10 progression, and the shared table rendered once per board refresh."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arena.leaderboards.models import LeaderboardEntry
from arena.leaderboards.progression import TeamProgression, progression_compute
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def w():
    organiser, alice, bob = UserFactory(username="organiser"), UserFactory(username="alice"), UserFactory()
    phase = PhaseFactory(track__scorer_key="mer.multi", track__challenge__organisers=[organiser])
    challenge = phase.track.challenge
    alpha = TeamFactory(challenge=challenge, name="Alpha", members=[alice])
    bravo = TeamFactory(challenge=challenge, name="Bravo", members=[bob])
    return {"phase": phase, "alpha": alpha, "bravo": bravo, "users": {
        "anonymous": None, "organiser": organiser, "alice": alice, "bob": bob, "outsider": UserFactory()}}


def scored(phase, team, public, private=None, *, at, baseline=False, method="m") -> Submission:
    sub = SubmissionFactory(phase=phase, team=None if baseline else team, is_baseline=baseline,
                            status=SubmissionStatus.SCORED, method_name=method)
    Submission.objects.filter(pk=sub.pk).update(created_at=at)
    for split, score in (("public", public), ("private", private if private is not None else public)):
        SubmissionScore.objects.create(submission=sub, split=split, score=score,
                                       metrics={"waf": score, "mse": 1 - score, "accuracy": score})
    return sub


def page_of(client, phase, user=None, query=""):
    client.logout()
    if user is not None:
        client.force_login(user)
    response = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard/"
                          + query)
    assert response.status_code == 200
    return response.content.decode()


def rows(html):
    """(the row's opening tag, its cells as text) for each row of the board table."""
    body = html.split('<table id="leaderboard">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [(opening, [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)])
            for opening, tr in re.findall(r"(<tr[^>]*>)(.*?)</tr>", body, re.S)]


@pytest.fixture
def board(w):
    phase = w["phase"]
    scored(phase, w["alpha"], 0.5, at=T0)
    scored(phase, w["alpha"], 0.8, at=T0 + timedelta(days=1), method="Alpha v2")
    scored(phase, None, 0.6, at=T0, baseline=True, method="Official baseline")
    scored(phase, w["bravo"], 0.4, at=T0 + timedelta(hours=5), method="Bravo v1")
    leaderboard_refresh(phase_id=phase.pk)
    return w


@pytest.mark.parametrize("who,own", [("anonymous", None), ("outsider", None), ("organiser", None),
                                     ("alice", "Alpha"), ("bob", "Bravo")])
def test_the_readers_own_team_row_is_marked_for_its_members_only(client, board, who, own):
    html = page_of(client, board["phase"], board["users"][who])
    marked = [cells[1] for opening, cells in rows(html) if "data-own-team" in opening]
    assert marked == ([f"{own} (your team)"] if own else [])
    assert html.count("data-own-team") == (1 if own else 0) and html.count("(your team)") == (1 if own else 0)
    assert ('id="own-team-note"' in html) is bool(own)
    if own == "Alpha":
        assert 'aria-current="true"' in html.split('<tr id="row-1"', 1)[1].split(">", 1)[0]
        assert 'is ranked <strong>1</strong>: <a href="#row-1">go to its row</a>' in html


def test_rows_show_the_counted_entrys_date_the_entry_count_and_baselines_as_unranked_lines(client, board):
    html = page_of(client, board["phase"])
    assert [(opening, cells[:3] + cells[-2:]) for opening, cells in rows(html)] == [
        ('<tr id="row-1">', ["1", "Alpha", "Alpha v2", "2", "2026-03-02"]),
        ('<tr id="row-2" class="baseline" data-baseline>', ["baseline", "Organisers", "Official baseline", "",
                                                             "2026-03-01"]),
        ('<tr id="row-3">', ["2", "Bravo", "Bravo v1", "1", "2026-03-01"]),
    ]
    assert '<time datetime="2026-03-02T12:00:00+00:00">2026-03-02</time>' in html


def test_each_metric_column_says_its_direction_in_arrows_and_words(client, board):
    html = page_of(client, board["phase"])
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    headers = [re.sub(r"<[^>]+>", "", h).split() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    directions = {h[0]: " ".join(h[1:]) for h in headers if "better" in h}
    assert directions == {"combined": "↑ higher is better", "waf": "↑ higher is better",
                          "mse": "↓ lower is better", "accuracy": "↑ higher is better"}
    assert '<span aria-hidden="true">↓</span> lower is better' in head


def test_the_search_filters_team_names_on_the_server_and_keeps_baselines(client, board):
    phase = board["phase"]
    html = page_of(client, phase, query="?q=brav")
    assert [cells[1] for _, cells in rows(html)] == ["Organisers", "Bravo"]
    assert 'value="brav"' in html and "2 rows match “brav” (baselines included)." in html
    assert [cells[1] for _, cells in rows(page_of(client, phase, query="?q=ALPHA"))] == ["Alpha", "Organisers"]
    assert [cells[1] for _, cells in rows(page_of(client, phase, query="?q=zulu"))] == ["Organisers"]
    # The reader's own row is marked in a search too.
    assert [cells[1] for _, cells in rows(page_of(client, phase, board["users"]["alice"], query="?q=alp"))] == [
        "Alpha (your team)", "Organisers"]


def test_the_shared_table_is_rendered_once_per_refresh(client, board):
    phase = board["phase"]
    first = page_of(client, phase)
    with CaptureQueriesContext(connection) as read:
        again = page_of(client, phase)
    assert rows(again) == rows(first)
    assert [q["sql"] for q in read.captured_queries if LeaderboardEntry._meta.db_table in q["sql"]] == []
    scored(phase, board["bravo"], 0.9, at=T0 + timedelta(days=2), method="Bravo v2")
    leaderboard_refresh(phase_id=phase.pk)
    assert [cells[1] for _, cells in rows(page_of(client, phase))] == ["Bravo", "Alpha", "Organisers"]


def test_the_own_team_note_points_to_the_page_of_its_row(client, w):
    phase = w["phase"]
    for i in range(120):
        scored(phase, TeamFactory(challenge=phase.track.challenge, name=f"T{i:03d}"), 0.9 - i / 1000, at=T0)
    scored(phase, w["alpha"], 0.1, at=T0)
    leaderboard_refresh(phase_id=phase.pk)
    html = page_of(client, phase, w["users"]["alice"])
    assert "data-own-team" not in html
    assert 'is ranked <strong>121</strong>: <a href="?split=public&amp;page=2#row-121">go to its row</a>' in html
    assert "Alpha (your team)" in [cells[1] for _, cells in rows(page_of(client, phase, w["users"]["alice"],
                                                                          query="?page=2"))]


def test_top_10_progression_is_each_top_teams_running_best(client, w):
    phase = w["phase"]
    challenge = phase.track.challenge
    charlie = TeamFactory(challenge=challenge, name="Charlie")
    # Alpha: 0.5, then worse (0.4: no point), then 0.7; Bravo: 0.6 once; Charlie 0.3 then 0.65.
    scored(phase, w["alpha"], 0.5, at=T0)
    scored(phase, w["bravo"], 0.6, at=T0 + timedelta(hours=1))
    scored(phase, w["alpha"], 0.4, at=T0 + timedelta(hours=2))
    scored(phase, charlie, 0.3, at=T0 + timedelta(hours=3))
    scored(phase, w["alpha"], 0.7, at=T0 + timedelta(hours=4))
    scored(phase, charlie, 0.65, at=T0 + timedelta(hours=5))
    scored(phase, None, 0.99, at=T0, baseline=True)  # baselines are not teams
    failed = SubmissionFactory(phase=phase, team=w["bravo"], status=SubmissionStatus.FAILED)
    SubmissionScore.objects.create(submission=failed, split="public", score=0.95, metrics={})
    leaderboard_refresh(phase_id=phase.pk)
    expected = [
        TeamProgression(1, "Alpha", ((T0, 0.5), (T0 + timedelta(hours=4), 0.7))),
        TeamProgression(2, "Charlie", ((T0 + timedelta(hours=3), 0.3), (T0 + timedelta(hours=5), 0.65))),
        TeamProgression(3, "Bravo", ((T0 + timedelta(hours=1), 0.6),)),
    ]
    assert progression_compute(phase=phase, board="public", greater_is_better=True) == expected
    html = page_of(client, phase)
    table = html.split('<details id="progression-table">', 1)[1].split("</details>", 1)[0]
    assert [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)] == [
        ["1", "Alpha", "2026-03-01 12:00: 0.5000; 2026-03-01 16:00: 0.7000"],
        ["2", "Charlie", "2026-03-01 15:00: 0.3000; 2026-03-01 17:00: 0.6500"],
        ["3", "Bravo", "2026-03-01 13:00: 0.6000"],
    ]
    assert '"label": "1. Alpha", "points": [{"x": "2026-03-01T12:00:00+00:00", "y": 0.5}' in html


def test_progression_of_a_lower_is_better_track_and_only_the_top_10(w):
    phase = w["phase"]
    teams = [TeamFactory(challenge=phase.track.challenge, name=f"T{i:02d}") for i in range(12)]
    for i, team in enumerate(teams):
        scored(phase, team, 0.5 + i / 100, at=T0 + timedelta(minutes=i))
    leaderboard_refresh(phase_id=phase.pk)
    result = progression_compute(phase=phase, board="public", greater_is_better=True)
    assert [(t.rank, t.team_name) for t in result] == [(i + 1, f"T{11 - i:02d}") for i in range(10)]
    # Lower is better: a later, higher score is no improvement.
    scored(phase, teams[11], 0.9, at=T0 + timedelta(hours=1))
    leaderboard_refresh(phase_id=phase.pk)
    lower = progression_compute(phase=phase, board="public", greater_is_better=False)
    assert lower[0].team_name == "T11" and lower[0].points == ((T0 + timedelta(minutes=11), 0.61),)


def test_no_progression_on_the_private_board_whose_other_private_scores_stay_unseen(client, board):
    from arena.challenges.services import phase_reveal_results

    phase = board["phase"]
    phase_reveal_results(actor=board["users"]["organiser"], phase=phase)
    assert progression_compute(phase=phase, board="private", greater_is_better=True) == []
    html = page_of(client, phase, query="?split=private")
    assert 'id="progression"' not in html and "0.5000" not in html  # Alpha's first entry counts nowhere
    assert 'id="progression"' in page_of(client, phase)


def test_a_board_the_reader_may_not_see_shows_no_rows_no_search_and_no_progression(client, board):
    phase = board["phase"]
    response = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard/"
                          "?split=private&q=alp")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Alpha" not in html and "progression" not in html and "board-search" not in html
