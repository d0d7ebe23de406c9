"""The organiser API: the admin's actions for scripts, with the same rules, and nothing for anyone else."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arena.audit.models import AuditEntry
from arena.challenges.services import phase_reveal_results
from arena.participation.models import Participation, ParticipationStatus
from arena.submissions.models import Submission, SubmissionStatus
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organiser, other_organiser, participant = UserFactory(is_staff=True), UserFactory(is_staff=True), UserFactory()
    phase = PhaseFactory(track__challenge__organisers=[organiser], track__challenge__slug="mer")
    other = PhaseFactory(track__challenge__organisers=[other_organiser], track__challenge__slug="abaw")
    team = ready_team(challenge=phase.track.challenge, members=[participant], name="Owls")
    Participation.objects.update_or_create(team=team, defaults={"challenge": phase.track.challenge,
                                                                "status": ParticipationStatus.PENDING})
    TeamFactory(challenge=phase.track.challenge, name="Larks")
    scored = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    return {"organiser": organiser, "other_organiser": other_organiser, "participant": participant,
            "phase": phase, "other": other, "team": team, "scored": scored}


def _as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


PREDICTION = b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,sad\n"


def _calls(w):
    phase, team = w["phase"], w["team"]
    return [
        ("get", "/api/v1/challenges/mer/teams", None),
        ("post", f"/api/v1/challenges/mer/teams/{team.pk}/decision", {"decision": "approve"}),
        ("post", f"/api/v1/phases/{phase.pk}/reveal", {"revealed": True}),
        ("post", f"/api/v1/phases/{phase.pk}/rerun", None),
        ("baseline", f"/api/v1/phases/{phase.pk}/baselines", None),
    ]


def _call(client, method, url, data):
    if method == "baseline":
        return client.post(url, {"file": SimpleUploadedFile("b.csv", PREDICTION), "method_name": "Baseline"})
    if data:
        return getattr(client, method)(url, data, content_type="application/json")
    return getattr(client, method)(url)


def test_the_organiser_sees_every_team_and_where_it_stands(world):
    body = _as(world["organiser"]).get("/api/v1/challenges/mer/teams").json()
    assert body == [
        {"id": body[0]["id"], "name": "Larks", "created_at": body[0]["created_at"], "members": [],
         "participation": "approved", "decision_reason": "", "licence_accepted": False, "agreement_uploaded": False,
         "submissions": 0},
        {"id": world["team"].pk, "name": "Owls", "created_at": body[1]["created_at"],
         "members": [{"username": world["participant"].username, "email": world["participant"].email,
                      "role": "owner"}],
         "participation": "pending", "decision_reason": "", "licence_accepted": True, "agreement_uploaded": False,
         "submissions": 1},
    ]


def test_decisions_reveals_and_reruns_go_through_the_admin_s_services(world):
    client, phase = _as(world["organiser"]), world["phase"]
    url = f"/api/v1/challenges/mer/teams/{world['team'].pk}/decision"
    refused = client.post(url, {"decision": "deny"}, content_type="application/json")
    assert refused.status_code == 400 and "reason" in refused.json()["message"].lower()
    assert Participation.objects.get(team=world["team"]).status == ParticipationStatus.PENDING
    assert client.post(url, {"decision": "approve"}, content_type="application/json").json() == {"changed": True}
    assert client.post(url, {"decision": "approve"}, content_type="application/json").json() == {"changed": False}
    assert Participation.objects.get(team=world["team"]).status == ParticipationStatus.APPROVED
    reveal = f"/api/v1/phases/{phase.pk}/reveal"
    assert client.post(reveal, {"revealed": True}, content_type="application/json").json() == {"changed": True}
    phase.refresh_from_db()
    assert phase.private_revealed_at is not None
    assert client.post(reveal, {"revealed": False}, content_type="application/json").json() == {"changed": True}
    assert client.post(f"/api/v1/phases/{phase.pk}/rerun").json() == {"queued": 1}
    assert Submission.objects.get(pk=world["scored"].pk).status == SubmissionStatus.QUEUED
    assert list(AuditEntry.objects.filter(actor=world["organiser"]).order_by("pk").values_list(
        "action", flat=True)) == ["participation.approve", "phase.reveal_results", "phase.hide_results",
                                  "submission.rerun"]


@pytest.mark.parametrize("who", ["participant", "other_organiser"])
def test_nobody_else_can_do_any_of_it_nor_learn_what_exists(world, who):
    client = _as(world[who])
    for method, url, data in _calls(world):
        response = _call(client, method, url, data)
        assert response.status_code == 404, url
        unknown = url.replace("/mer/", "/no-such-challenge/").replace(
            f"/phases/{world['phase'].pk}/", "/phases/99999999/")
        twin = _call(client, method, unknown, data)
        # The same answer as for a challenge or phase that does not exist, but for the name asked for.
        assert (twin.status_code, twin.json()) == (404, {
            **response.json(), "message": response.json()["message"].replace("'mer'", "'no-such-challenge'")})
    assert not AuditEntry.objects.exists()
    assert Participation.objects.get(team=world["team"]).status == ParticipationStatus.PENDING
    assert Submission.objects.get(pk=world["scored"].pk).status == SubmissionStatus.SCORED
    assert not Submission.objects.filter(is_baseline=True).exists()
    world["phase"].refresh_from_db()
    assert world["phase"].private_revealed_at is None


def test_signed_out_callers_are_asked_to_sign_in(world):
    for method, url, _ in _calls(world):
        assert _call(_as(None), method, url, None).status_code in (401, 403)


def test_an_organiser_cannot_act_on_another_challenge_s_phase(world):
    phase_reveal_results(actor=world["other_organiser"], phase=world["other"])
    response = _as(world["organiser"]).post(f"/api/v1/phases/{world['other'].pk}/reveal", {"revealed": False},
                                            content_type="application/json")
    assert response.status_code == 404
    world["other"].refresh_from_db()
    assert world["other"].private_revealed_at is not None


def test_the_organiser_posts_baselines_checked_like_team_uploads(world):
    client, phase = _as(world["organiser"]), world["phase"]
    url = f"/api/v1/phases/{phase.pk}/baselines"
    refused = client.post(url, {"file": SimpleUploadedFile("b.csv", b"name,discrete\ns1,joyful\n"),
                                "method_name": "Baseline"})
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_submission_file")
    assert not Submission.objects.filter(is_baseline=True).exists()
    for name in ("Official baseline", "Text-only baseline"):
        response = client.post(url, {"file": SimpleUploadedFile("b.csv", PREDICTION), "method_name": name})
        assert response.status_code == 201
        assert (response.json()["is_baseline"], response.json()["team"], response.json()["status"]) == (
            True, None, "queued")
    assert list(Submission.objects.filter(phase=phase, is_baseline=True).order_by("pk").values_list(
        "method_name", "team")) == [("Official baseline", None), ("Text-only baseline", None)]
