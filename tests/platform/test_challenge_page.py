"""The challenge page: the timeline of phases with the current one marked, the countdown to the next deadline,
activity counts that never leak a challenge the reader may not see, and the latest announcements."""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arena.challenges.activity import CURRENT, PAST, UPCOMING, challenge_counts, challenge_next_deadline
from arena.challenges.models import Announcement, BoardVisibility
from arena.challenges.selectors import challenge_with_tracks
from arena.submissions.models import Submission, SubmissionStatus
from tests.platform.factories import (
    ChallengeFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    now = timezone.now()
    organiser = UserFactory(username="organiser")
    challenge = ChallengeFactory(slug="mer", starts_at=now - timedelta(days=20), ends_at=now + timedelta(days=40),
                                 organisers=[organiser])
    semi = TrackFactory(challenge=challenge, title="MER-SEMI", order=0)
    noise = TrackFactory(challenge=challenge, title="MER-NOISE", order=1)
    phases = {
        "warm-up": PhaseFactory(track=semi, title="Warm-up", opens_at=now - timedelta(days=20),
                                closes_at=now - timedelta(days=10)),
        "validation": PhaseFactory(track=semi, title="Validation", opens_at=now - timedelta(days=10),
                                   closes_at=now + timedelta(days=3, hours=5)),
        "test": PhaseFactory(track=semi, title="Test", opens_at=now + timedelta(days=5),
                             closes_at=now + timedelta(days=12)),
        "hidden": PhaseFactory(track=noise, title="Blind test", opens_at=now - timedelta(days=2),
                               closes_at=now + timedelta(days=30), board_visibility=BoardVisibility.HIDDEN),
    }
    return {"now": now, "challenge": challenge, "organiser": organiser, "phases": phases}


def _submission(phase, team, *, status=SubmissionStatus.SCORED, finished_ago=None, baseline=False):
    sub = SubmissionFactory(phase=phase, team=None if baseline else team, status=status, is_baseline=baseline)
    if finished_ago is not None:
        Submission.objects.filter(pk=sub.pk).update(finished_at=timezone.now() - finished_ago)
    return sub


def test_timeline_lists_every_phase_by_opening_and_marks_the_open_ones(client, w):
    html = client.get(reverse("challenge-detail", args=["mer"])).text
    timeline = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    steps = re.findall(r'<li class="(\w+)"( aria-current="step")?>\s*<span class="step-label">(.*?)</span>', timeline)
    assert steps == [
        (PAST, "", "MER-SEMI: Warm-up"),
        (CURRENT, ' aria-current="step"', "MER-SEMI: Validation"),
        (CURRENT, ' aria-current="step"', "MER-NOISE: Blind test"),
        (UPCOMING, "", "MER-SEMI: Test"),
    ]
    assert timeline.count("Open now") == 2


def test_the_page_embeds_the_phase_timeline_chart_with_the_exact_phases_and_now(client, w):
    before = timezone.now()
    html = client.get(reverse("challenge-detail", args=["mer"])).text
    after = timezone.now()
    spec = json.loads(html.split('<script id="chart-phase-timeline" type="application/json">', 1)[1]
                      .split("</script>", 1)[0])
    p = w["phases"]
    expected = [("MER-SEMI: Warm-up", p["warm-up"], False), ("MER-SEMI: Validation", p["validation"], True),
                ("MER-NOISE: Blind test", p["hidden"], True), ("MER-SEMI: Test", p["test"], False)]
    assert spec["type"] == "timeline" and spec["title"] == "Phases"
    assert spec["items"] == [{"label": label, "start": phase.opens_at.isoformat(), "end": phase.closes_at.isoformat(),
                              "current": current} for label, phase, current in expected]
    assert before <= datetime.fromisoformat(spec["now"]) <= after
    # The chart comes first; the list of phases stays as its text alternative; the scripts are this site's.
    assert html.index('<canvas data-chart="chart-phase-timeline"') < html.index('<ol class="timeline">')
    assert "arena/vendor/chart.umd.min.js" in html and "arena/charts.js" in html


def test_a_challenge_without_phases_draws_no_timeline_chart(client):
    ChallengeFactory(slug="empty")
    html = client.get(reverse("challenge-detail", args=["empty"])).text
    assert "No phases yet." in html
    assert "chart-phase-timeline" not in html and "arena/charts.js" not in html


def test_the_next_deadline_is_the_soonest_moment_to_come_with_a_countdown(client, w):
    phases = w["phases"]
    deadline = challenge_next_deadline(challenge_with_tracks(w["challenge"]), w["now"])
    assert (deadline.label, deadline.at) == ("MER-SEMI: Validation closes", phases["validation"].closes_at)
    html = client.get(reverse("challenge-detail", args=["mer"])).text
    section = html.split('id="next-deadline"', 1)[1].split("</section>", 1)[0]
    stamp = phases["validation"].closes_at.isoformat()
    assert f'<strong>MER-SEMI: Validation closes</strong>: <time datetime="{stamp}">' in section
    assert re.search(rf'<p class="countdown" data-countdown="{re.escape(stamp)}">in 3\xa0days, (4|5)\xa0hours</p>',
                     section)
    assert "arena/countdown.js" in html
    # An entry deadline before it comes first; once everything is over there is none.
    w["challenge"].entry_deadline = w["now"] + timedelta(days=1)
    w["challenge"].save()
    assert challenge_next_deadline(challenge_with_tracks(w["challenge"]), w["now"]).label.startswith("Entry deadline")
    assert challenge_next_deadline(challenge_with_tracks(w["challenge"]), w["now"] + timedelta(days=41)) is None


def test_counts_are_exact_and_count_hidden_board_submissions_without_scores(client, w):
    phases, challenge = w["phases"], w["challenge"]
    alpha, bravo = (TeamFactory(challenge=challenge, name=n) for n in ("Alpha", "Bravo"))
    TeamFactory(challenge=challenge, name="Charlie")
    _submission(phases["validation"], alpha, finished_ago=timedelta(hours=2))
    _submission(phases["validation"], alpha, finished_ago=timedelta(hours=30))  # scored, but not in the last day
    _submission(phases["validation"], bravo, status=SubmissionStatus.FAILED, finished_ago=timedelta(hours=1))
    _submission(phases["validation"], bravo, status=SubmissionStatus.QUEUED)
    _submission(phases["hidden"], bravo, finished_ago=timedelta(minutes=5))  # hidden board: counted, never scored
    _submission(phases["validation"], None, baseline=True, finished_ago=timedelta(hours=1))  # organisers'
    other = PhaseFactory()  # another challenge's activity
    _submission(other, TeamFactory(challenge=other.track.challenge), finished_ago=timedelta(hours=1))
    counts = challenge_counts(challenge)
    assert (counts.teams, counts.submissions, counts.scored_last_day) == (3, 5, 2)
    html = client.get(reverse("challenge-detail", args=["mer"])).text
    assert re.findall(r'<dd id="count-([\w-]+)">(\d+)</dd>', html) == [
        ("teams", "3"), ("submissions", "5"), ("scored-day", "2")]


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("participant", 404), ("other-organiser", 404),
                                        ("organiser", 200)])
def test_an_unpublished_challenge_shows_no_counts_to_those_who_may_not_see_it(client, w, who, status):
    challenge = w["challenge"]
    challenge.is_published = False
    challenge.save()
    participant = UserFactory(username="participant")
    team = TeamFactory(challenge=challenge, name="Secret team", members=[participant])
    _submission(w["phases"]["validation"], team, finished_ago=timedelta(hours=1))
    users = {"anonymous": None, "participant": participant,
             "other-organiser": ChallengeFactory(organisers=[UserFactory()]).organisers.get(),
             "organiser": w["organiser"]}
    if users[who] is not None:
        client.force_login(users[who])
    response = client.get(reverse("challenge-detail", args=["mer"]))
    assert response.status_code == status
    html = response.content.decode()
    assert ('id="count-teams">1<' in html) is (status == 200)
    assert ("Secret team" in html, 'id="counts"' in html) == (False, status == 200)


def test_the_latest_announcements_are_shown_and_older_ones_folded(client, w):
    now = w["now"]
    for i in range(5):
        Announcement.objects.create(challenge=w["challenge"], title=f"News {i}", body=f"Body {i}",
                                    published_at=now - timedelta(days=5 - i))
    Announcement.objects.create(challenge=w["challenge"], title="Tomorrow", body="Not yet",
                                published_at=now + timedelta(days=1))
    html = client.get(reverse("challenge-detail", args=["mer"])).text
    section = html.split('id="announcements"', 1)[1].split("</section>", 1)[0]
    shown, older = section.split('<details id="older-announcements">')
    assert re.findall(r"<h3[^>]*>(.*?)</h3>", shown) == ["News 4", "News 3", "News 2"]
    assert "2 older announcements" in older and re.findall(r"<h3[^>]*>(.*?)</h3>", older) == ["News 1", "News 0"]
    assert "Tomorrow" not in html
