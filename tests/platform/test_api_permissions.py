"""Who may do what over the API, each person authenticated with their own token.

Roles: anonymous, a participant without a team, a team not yet approved, a member of the approved
team, a member of another team, the organiser of another challenge, and the challenge's organiser.
Every refused write is checked to have changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from arena.participation.models import ParticipationStatus
from arena.submissions.models import Submission, SubmissionStatus
from arena.tokens.services import api_token_create
from tests.platform.factories import ChallengeFactory, PhaseFactory, SubmissionFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"
ROLES = ("anonymous", "no_team", "pending", "member", "other_team", "other_organiser", "organiser")


@dataclass
class World:
    phase: object
    submission: Submission
    tokens: dict[str, str | None]


@pytest.fixture
def world() -> World:
    users = {role: UserFactory(username=role) for role in ROLES if role != "anonymous"}
    phase = PhaseFactory(track__challenge__slug="mer", track__challenge__organisers=[users["organiser"]],
                         track__max_in_flight=5)
    challenge = phase.track.challenge
    ChallengeFactory(organisers=[users["other_organiser"]])
    team = ready_team(challenge=challenge, members=[users["member"]], name="Mine")
    ready_team(challenge=challenge, members=[users["other_team"]], name="Rivals")
    pending = ready_team(challenge=challenge, members=[users["pending"]], name="Waiting")
    pending.participation.status = ParticipationStatus.PENDING
    pending.participation.save()
    submission = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.QUEUED)
    tokens = {role: api_token_create(user=user, name="t").raw for role, user in users.items()}
    return World(phase=phase, submission=submission, tokens={"anonymous": None, **tokens})


def _call(client, world: World, role: str, method: str, path: str, **kwargs):
    token = world.tokens[role]
    headers = {"Authorization": f"Token {token}"} if token else {}
    return getattr(client, method)(path, headers=headers, **kwargs)


def _submit_data():
    return {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": "M"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    #: role -> (status, error code or None)
    expected: dict[str, tuple[int, str | None]]
    data: Callable[[], dict] | None = None
    #: Whether an allowed call changes the submissions (the refused ones must not).
    writes: bool = False


def _cells(default, **overrides):
    return {role: overrides.get(role, default) for role in ROLES}


ANON = (401, "not_authenticated")
ENDPOINTS = [
    Endpoint("me", "get", lambda w: "/api/v1/me", _cells((200, None), anonymous=ANON)),
    Endpoint("phase", "get", lambda w: f"/api/v1/phases/{w.phase.pk}", _cells((200, None))),
    Endpoint("challenge", "get", lambda w: "/api/v1/challenges/mer", _cells((200, None))),
    Endpoint("my team", "get", lambda w: "/api/v1/challenges/mer/team",
             _cells((200, None), anonymous=ANON, no_team=(404, "no_team"), other_organiser=(404, "no_team"),
                    organiser=(404, "no_team"))),
    Endpoint("submit", "post", lambda w: f"/api/v1/phases/{w.phase.pk}/submissions",
             _cells((403, "not_in_team"), anonymous=ANON, pending=(403, "approval_pending"), member=(201, None),
                    other_team=(201, None)), data=_submit_data, writes=True),
    Endpoint("submission detail", "get", lambda w: f"/api/v1/submissions/{w.submission.pk}",
             _cells((404, "not_found"), anonymous=ANON, member=(200, None), organiser=(200, None))),
    Endpoint("cancel", "post", lambda w: f"/api/v1/submissions/{w.submission.pk}/cancel",
             _cells((404, "not_found"), anonymous=ANON, member=(200, None),
                    organiser=(403, "not_team_member")), writes=True),
    Endpoint("private leaderboard", "get", lambda w: f"/api/v1/phases/{w.phase.pk}/leaderboard?split=private",
             _cells((403, "private_hidden"), organiser=(200, None))),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_permission_matrix(client, world, endpoint, role):
    before = sorted(Submission.objects.values_list("pk", "status"))
    data = endpoint.data() if endpoint.data else None
    kwargs = {"data": data} if data is not None else {}
    response = _call(client, world, role, endpoint.method, endpoint.path(world), **kwargs)
    status, code = endpoint.expected[role]
    assert response.status_code == status, response.content
    body = response.json()
    if code is not None:
        assert set(body) == {"code", "message", "details"} and body["code"] == code
        assert body["message"]
    if status >= 400 or not endpoint.writes:
        assert sorted(Submission.objects.values_list("pk", "status")) == before


def test_what_the_allowed_writes_did(client, world):
    created = _call(client, world, "member", "post", f"/api/v1/phases/{world.phase.pk}/submissions",
                    data=_submit_data())
    assert created.status_code == 201
    assert Submission.objects.get(pk=created.json()["id"]).submitted_by.username == "member"
    cancelled = _call(client, world, "member", "post", f"/api/v1/submissions/{world.submission.pk}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    world.submission.refresh_from_db()
    assert (world.submission.status, world.submission.error_message) == ("cancelled", "Cancelled by your team.")
