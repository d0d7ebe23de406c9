"""The read endpoints added for scripts: challenges, one challenge, one phase, me, my team."""

from datetime import timedelta

import pytest
from django.utils import timezone

from arena.challenges.models import PhaseKind
from arena.participation.models import ParticipationStatus
from arena.tokens.services import api_token_create
from tests.platform.factories import (
    ChallengeFactory,
    LicenceFactory,
    PhaseFactory,
    TeamFactory,
    TrackFactory,
    UserFactory,
    ready_team,
)

pytestmark = pytest.mark.django_db


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def mer():
    organiser = UserFactory(username="org")
    challenge = ChallengeFactory(slug="mer", title="MER", summary="Emotions", organisers=[organiser],
                                 requires_approval=True, max_team_size=4)
    LicenceFactory(challenge=challenge, version=3, title="EULA")
    semi = TrackFactory(challenge=challenge, slug="semi", title="MER-SEMI", order=1, scorer_key="mer.discrete",
                        tie_break_metrics=["accuracy"], max_per_day=3, max_total=None, max_in_flight=1)
    multi = TrackFactory(challenge=challenge, slug="multi", title="MER-MULTI", order=2, scorer_key="mer.multi",
                         accepts_containers=True, container_gpus=1)
    now = timezone.now()
    test = PhaseFactory(track=semi, slug="test", title="Test", kind=PhaseKind.TEST, order=2,
                        opens_at=now + timedelta(days=5), closes_at=now + timedelta(days=9))
    validation = PhaseFactory(track=semi, slug="val", title="Validation", order=1)
    multi_phase = PhaseFactory(track=multi, slug="val", title="Validation")
    draft = ChallengeFactory(slug="draft", is_published=False, organisers=[organiser],
                             starts_at=now - timedelta(days=3))
    PhaseFactory(track__challenge=draft)
    return {"organiser": organiser, "challenge": challenge, "semi": semi, "test": test, "validation": validation,
            "multi_phase": multi_phase, "draft": draft}


def test_challenge_list_shows_tracks_and_phase_ids_in_order(client, mer):
    response = client.get("/api/v1/challenges")
    assert response.status_code == 200
    [challenge] = response.json()
    assert {k: v for k, v in challenge.items() if k != "tracks"} == {
        "slug": "mer", "title": "MER", "summary": "Emotions", "starts_at": _iso(mer["challenge"].starts_at),
        "ends_at": _iso(mer["challenge"].ends_at), "entry_deadline": None, "is_published": True,
        "requires_approval": True, "requires_signed_agreement": False, "max_team_size": 4, "url": "http://testserver/c/mer/",
    }
    assert [(t["slug"], t["scorer_key"], [(p["id"], p["slug"], p["is_open"]) for p in t["phases"]])
            for t in challenge["tracks"]] == [
        ("semi", "mer.discrete", [(mer["validation"].pk, "val", True), (mer["test"].pk, "test", False)]),
        ("multi", "mer.multi", [(mer["multi_phase"].pk, "val", True)]),
    ]
    client.force_login(mer["organiser"])
    assert [c["slug"] for c in client.get("/api/v1/challenges").json()] == ["mer", "draft"]


def test_challenge_detail_explains_the_metric_and_the_limits(client, mer):
    response = client.get("/api/v1/challenges/mer")
    assert response.status_code == 200
    body = response.json()
    assert body["licence"] == {"version": 3, "title": "EULA"}
    assert (body["overview"], body["rules"]) == ("Overview text", "Rules text")
    semi, multi = body["tracks"]
    assert semi["scorer"]["key"] == "mer.discrete"
    assert semi["scorer"]["primary_metric"] == "waf" and semi["scorer"]["greater_is_better"] is True
    assert semi["scorer"]["metric_names"] == ["waf", "accuracy"]
    assert "weighted" in semi["scorer"]["description"].lower()
    assert semi["scorer"]["submission_format"].startswith("CSV")
    assert semi["tie_break_metrics"] == ["accuracy"]
    assert semi["limits"] == {
        "accepted_kinds": ["file"], "max_upload_mb": 50, "allow_compressed": True, "max_per_day": 3,
        "max_total": None, "max_in_flight": 1,
        "counted": "Per team and phase; failed and cancelled submissions do not count.",
    }
    assert semi["container_limits"] is None
    assert multi["limits"]["accepted_kinds"] == ["file", "container"]
    assert multi["container_limits"] == {"wall_seconds": 600, "memory_mb": 2048, "cpus": 1.0, "gpus": 1,
                                         "max_image_mb": 4096}
    assert semi["phases"][1] == {
        "id": mer["test"].pk, "slug": "test", "title": "Test", "kind": "test", "opens_at": _iso(mer["test"].opens_at),
        "closes_at": _iso(mer["test"].closes_at), "is_open": False, "private_revealed": False,
        "board_visibility": "live", "frozen_at": None, "reveal_at_close": False, "entry_rule": "best_public",
        "max_selected": 1, "has_public_split": True,
    }


def test_a_track_whose_scorer_is_missing_still_reads(client, mer):
    mer["semi"].__class__.objects.filter(pk=mer["semi"].pk).update(scorer_key="gone.scorer")
    body = client.get("/api/v1/challenges/mer").json()
    assert body["tracks"][0]["scorer"] is None


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("participant", 404), ("organiser", 200)])
def test_unpublished_challenges_and_their_phases_are_hidden(client, mer, who, status):
    if who != "anonymous":
        client.force_login(mer["organiser"] if who == "organiser" else UserFactory())
    for path in ("/api/v1/challenges/draft", f"/api/v1/phases/{mer['draft'].tracks.get().phases.get().pk}"):
        response = client.get(path)
        assert response.status_code == status
        if status == 404:
            assert response.json()["code"] == "not_found"
    assert client.get("/api/v1/challenges/nope").json() == {
        "code": "not_found", "message": "No challenge 'nope'.", "details": {}}


def test_phase_detail(client, mer):
    response = client.get(f"/api/v1/phases/{mer['validation'].pk}")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "slug", "kind", "is_open", "challenge", "visible_splits")} == {
        "id": mer["validation"].pk, "slug": "val", "kind": "validation", "is_open": True, "challenge": "mer",
        "visible_splits": ["public"],
    }
    assert body["track"]["slug"] == "semi" and "phases" not in body["track"]
    assert body["track"]["scorer"]["primary_metric"] == "waf"
    client.force_login(mer["organiser"])
    assert client.get(f"/api/v1/phases/{mer['validation'].pk}").json()["visible_splits"] == ["public", "private"]
    assert client.get("/api/v1/phases/999999").status_code == 404


def test_me_lists_teams_and_organised_challenges(client, mer):
    member = UserFactory(username="ada", email="ada@example.org", affiliation="Lab")
    team = ready_team(challenge=mer["challenge"], members=[member], name="Ada's")
    other = ChallengeFactory(slug="abaw")
    TeamFactory(challenge=other, name="Pending", members=[member], participation=ParticipationStatus.PENDING)
    token = api_token_create(user=member, name="cli").raw
    body = client.get("/api/v1/me", headers={"Authorization": f"Token {token}"}).json()
    # The dashboard's part (each team's next step and open phases, the newest submissions): test_dashboard.py.
    assert [team.pop("next_step")["state"] for team in body["teams"]] == ["no_licence", "ready"]
    assert [(team.pop("open_phases") != [], team.pop("dataset_steps")) for team in body["teams"]] == [
        (False, []), (True, [])]
    assert body.pop("submissions") == []
    assert body == {
        "id": member.pk, "username": "ada", "email": "ada@example.org", "affiliation": "Lab", "organises": [],
        "teams": [
            {"challenge": "abaw", "team_id": team.pk + 1, "team": "Pending", "role": "owner",
             "participation_status": "pending"},
            {"challenge": "mer", "team_id": team.pk, "team": "Ada's", "role": "owner",
             "participation_status": "approved"},
        ],
        "auth": {"method": "token", "token_name": "cli", "token_prefix": token.split("_")[1],
                 "token_expires_at": None},
    }
    client.force_login(mer["organiser"])
    assert client.get("/api/v1/me").json()["organises"] == ["draft", "mer"]


def test_my_team(client, mer):
    owner, member = UserFactory(username="owner"), UserFactory(username="member")
    team = ready_team(challenge=mer["challenge"], members=[owner, member], name="Owls")
    client.force_login(member)
    response = client.get("/api/v1/challenges/mer/team")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": team.pk, "name": "Owls", "challenge": "mer", "role": "member", "invite_code": team.invite_code,
        "members": [{"username": u.username, "role": role, "joined_at": team.memberships.get(user=u).joined_at
                     .isoformat().replace("+00:00", "Z")} for u, role in ((owner, "owner"), (member, "member"))],
        "participation_status": "approved", "licence_version": 3, "licence_accepted": True,
        "can_download": True, "refusal": None,
    }
    team.participation.status = ParticipationStatus.PENDING
    team.participation.save()
    team.licence_acceptances.all().delete()
    body = client.get("/api/v1/challenges/mer/team").json()
    assert (body["participation_status"], body["licence_accepted"], body["can_download"]) == ("pending", False, False)
    assert body["refusal"] == "Accept the licence for your team before downloading."


def test_my_team_when_i_have_none(client, mer):
    client.force_login(UserFactory())
    response = client.get("/api/v1/challenges/mer/team")
    assert response.status_code == 404
    assert response.json() == {
        "code": "no_team", "details": {},
        "message": "You are not in a team for 'MER'; create one or join one with an invite code at "
                   "http://testserver/c/mer/team/.",
    }
    client.logout()
    assert client.get("/api/v1/challenges/mer/team").status_code == 401
