"""The submission lists of the API read the database a fixed number of times, however long they are."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.submissions.models import SubmissionScore, SubmissionStatus
from arena.submissions.selectors import organised_challenge_ids
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A participant on a team in two challenges: one they also organise (private scores and
    logs shown), one they do not, before its reveal (public scores only, logs hidden)."""
    member = UserFactory(username="member")
    theirs = PhaseFactory(track__challenge__organisers=[member], track__show_container_logs=False)
    other = PhaseFactory(track__show_container_logs=False)
    teams = {phase: TeamFactory(challenge=phase.track.challenge, members=[member]) for phase in (theirs, other)}
    return {"member": member, "theirs": theirs, "other": other, "teams": teams}


def add_submissions(world, count: int) -> None:
    for phase in (world["theirs"], world["other"]):
        for _ in range(count):
            sub = SubmissionFactory(phase=phase, team=world["teams"][phase], status=SubmissionStatus.SCORED,
                                    logs="log line")
            SubmissionScore.objects.create(submission=sub, split="public", score=0.5, metrics={"waf": 0.5})
            SubmissionScore.objects.create(submission=sub, split="private", score=0.25, metrics={"waf": 0.25})


def queries_and_bodies(client, world) -> dict[str, tuple[int, list]]:
    """Per list endpoint: the number of queries of one GET, and the rows it returned."""
    answers = {}
    for path in (f"/api/v1/phases/{world['other'].pk}/submissions", "/api/v1/submissions"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        answers[path] = (len(queries), response.json())
    return answers


def test_lists_of_1_and_20_submissions_take_the_same_queries(client, world):
    client.force_login(world["member"])
    add_submissions(world, 1)
    short = queries_and_bodies(client, world)
    add_submissions(world, 19)
    long = queries_and_bodies(client, world)
    phase_list, all_list = long.values()
    assert [len(rows) for _, rows in short.values()] == [1, 2]
    assert [len(rows) for _, rows in long.values()] == [20, 40]
    counts = {path: count for path, (count, _) in long.items()}
    assert counts == {path: count for path, (count, _) in short.items()}
    # session, user, (the phase), the submissions with phase/track/challenge/team, their scores, their
    # fact-sheet answers with the questions, the challenges the member organises
    assert list(counts.values()) == [7, 6]
    # What each row shows still depends on who the member is in that row's challenge.
    shown = {(row["phase"], tuple(sorted(row["scores"])), row["logs"]) for row in all_list[1]}
    assert shown == {(world["theirs"].pk, ("private", "public"), "log line"),
                     (world["other"].pk, ("public",), None)}
    assert {row["phase"] for row in phase_list[1]} == {world["other"].pk}


def test_private_scores_show_in_the_list_after_the_reveal(client, world):
    client.force_login(world["member"])
    add_submissions(world, 2)
    world["other"].private_revealed_at = timezone.now()
    world["other"].save(update_fields=["private_revealed_at"])
    rows = client.get(f"/api/v1/phases/{world['other'].pk}/submissions").json()
    assert [row["scores"]["private"] for row in rows] == [
        {"score": 0.25, "metrics": {"waf": 0.25}, "conditions": [], "breakdown": None, "interval": None}] * 2
    assert [row["logs"] for row in rows] == [None, None]


def test_organised_challenge_ids_agree_with_is_organiser(world):
    people = [world["member"], UserFactory(username="root", is_superuser=True), UserFactory(username="stranger"),
              AnonymousUser()]
    challenges = list(Challenge.objects.order_by("pk"))
    expected = [{c.pk for c in challenges if is_organiser(person, c)} for person in people]
    assert [organised_challenge_ids(person) for person in people] == expected
    assert expected == [{world["theirs"].track.challenge_id}, {c.pk for c in challenges}, set(), set()]
