"""Who sees which submission, log, score and leaderboard (pages and API)."""

import pytest

from arena.challenges.services import phase_reveal_results
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import SubmissionScore, SubmissionStatus
from tests.platform.factories import ChallengeFactory, PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    organiser, other_organiser = UserFactory(username="org"), UserFactory(username="other-org")
    member, rival = UserFactory(username="member"), UserFactory(username="rival")
    phase = PhaseFactory(track__challenge__organisers=[organiser], track__show_container_logs=False)
    ChallengeFactory(organisers=[other_organiser])
    challenge = phase.track.challenge
    team = TeamFactory(challenge=challenge, name="Mine", members=[member])
    TeamFactory(challenge=challenge, name="Rivals", members=[rival])
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, logs="SECRET LOG LINE")
    SubmissionScore.objects.create(submission=sub, split="public", score=0.5, metrics={"waf": 0.5})
    SubmissionScore.objects.create(submission=sub, split="private", score=0.25, metrics={"waf": 0.25})
    leaderboard_refresh(phase_id=phase.pk)
    hidden = PhaseFactory(track__challenge__is_published=False, track__challenge__organisers=[organiser])
    users = {"anonymous": None, "member": member, "rival": rival, "organiser": organiser,
             "other_organiser": other_organiser}
    return {"users": users, "phase": phase, "sub": sub, "hidden": hidden, "organiser": organiser}


def _as(client, user):
    if user is not None:
        client.force_login(user)
    return client


# who -> (API detail status, page status)
SUBMISSION_ACCESS = {
    "anonymous": (401, 302), "member": (200, 200), "rival": (404, 404), "organiser": (200, 200),
    "other_organiser": (404, 404),
}


@pytest.mark.parametrize("who", list(SUBMISSION_ACCESS))
def test_submission_detail_matrix(client, w, who):
    client = _as(client, w["users"][who])
    sub = w["sub"]
    api_status, page_status = SUBMISSION_ACCESS[who]
    response = client.get(f"/api/v1/submissions/{sub.pk}")
    assert response.status_code == api_status
    if api_status == 200:
        body = response.json()
        assert body["scores"]["public"]["score"] == 0.5
        # Private scores before the reveal, and logs of a track that hides them: organisers only.
        assert ("private" in body["scores"]) is (who == "organiser")
        assert (body["logs"] == "SECRET LOG LINE") is (who == "organiser")
    else:
        assert set(response.json()) == {"code", "message", "details"}
    page = client.get(f"/submissions/{sub.pk}/")
    assert page.status_code == page_status
    assert b"SECRET LOG LINE" not in page.content or who == "organiser"


@pytest.mark.parametrize("who", ["anonymous", "rival", "other_organiser"])
def test_others_cannot_cancel_or_select(client, w, who):
    client = _as(client, w["users"][who])
    sub = w["sub"]
    for path in (f"/api/v1/submissions/{sub.pk}/cancel", f"/api/v1/submissions/{sub.pk}/select"):
        response = client.post(path, {"selected": True}, content_type="application/json")
        assert response.status_code in ((401,) if who == "anonymous" else (403, 404))
    sub.refresh_from_db()
    assert (sub.status, sub.is_selected) == (SubmissionStatus.SCORED, False)


def test_my_submissions_lists_only_my_teams(client, w):
    client.force_login(w["users"]["rival"])
    assert client.get("/api/v1/submissions").json() == []
    client.force_login(w["users"]["member"])
    assert [s["id"] for s in client.get("/api/v1/submissions").json()] == [w["sub"].pk]


@pytest.mark.parametrize("who", list(SUBMISSION_ACCESS))
def test_leaderboard_matrix_before_and_after_reveal(client, w, who):
    client = _as(client, w["users"][who])
    phase = w["phase"]
    public = client.get(f"/api/v1/phases/{phase.pk}/leaderboard")
    assert public.status_code == 200
    assert [e["score"] for e in public.json()["entries"]] == [0.5]
    private = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert private.status_code == (200 if who == "organiser" else 403)
    if who != "organiser":
        assert private.json()["code"] == "private_hidden"
        assert b"0.25" not in client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=private").content
    phase_reveal_results(actor=w["organiser"], phase=phase)
    revealed = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private")
    assert revealed.status_code == 200
    assert [(e["score"], e["public_rank"]) for e in revealed.json()["entries"]] == [(0.25, 1)]
    page = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard/?split=private")
    assert page.status_code == 200 and b"0.2500" in page.content


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("member", 404), ("organiser", 200)])
def test_unpublished_challenge_boards_are_hidden(client, w, who, status):
    client = _as(client, w["users"][who])
    assert client.get(f"/api/v1/phases/{w['hidden'].pk}/leaderboard").status_code == status


def test_csv_export_of_the_public_board(client, w):
    response = client.get(f"/api/v1/phases/{w['phase'].pk}/leaderboard.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("rank,team,method,baseline,score,waf")
    assert lines[1].startswith("1,Mine,")
