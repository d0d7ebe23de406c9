"""The Idempotency-Key rule through HTTP with a token: a retry returns the first submission and uses no quota."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from arena.audit.models import AuditEntry
from arena.submissions.models import Submission
from arena.tokens.services import api_token_create
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


@pytest.fixture
def world():
    user = UserFactory()
    phase = PhaseFactory(track__max_total=1, track__max_per_day=1, track__max_in_flight=1)
    ready_team(challenge=phase.track.challenge, members=[user])
    return {"user": user, "phase": phase, "token": api_token_create(user=user, name="cli").raw}


def _post(client, world, *, key=None, phase=None, data=GOOD, method="MLP"):
    headers = {"Authorization": f"Token {world['token']}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/phases/{(phase or world['phase']).pk}/submissions",
                       {"file": SimpleUploadedFile("p.csv", data), "method_name": method}, headers=headers)


def test_a_retried_request_returns_the_same_submission_and_uses_no_more_quota(client, world):
    first = _post(client, world, key="run-42")
    assert first.status_code == 201
    # The limit (one in total) is now reached: only a retry with the same key is answered.
    retried = _post(client, world, key="run-42")
    assert retried.status_code == 200
    assert retried.json() == first.json()
    assert Submission.objects.count() == 1
    assert AuditEntry.objects.filter(action="submission.create").count() == 1
    # Whatever the retry carries, the first request's submission is what it gets.
    changed = _post(client, world, key="run-42", method="Another name")
    assert (changed.status_code, changed.json()["id"], changed.json()["method_name"]) == (
        200, first.json()["id"], "MLP")
    fresh = _post(client, world, key="run-43")
    assert fresh.status_code == 429
    assert fresh.json()["code"] == "quota_exceeded" and fresh.json()["details"]["limit"] == "total"
    assert Submission.objects.count() == 1


def test_without_a_key_every_request_is_a_new_submission(client, world):
    world["phase"].track.max_total = world["phase"].track.max_per_day = world["phase"].track.max_in_flight = 5
    world["phase"].track.save()
    assert _post(client, world).status_code == 201
    assert _post(client, world).status_code == 201
    assert Submission.objects.count() == 2


def test_a_key_reused_for_another_phase_is_a_conflict(client, world):
    assert _post(client, world, key="k").status_code == 201
    other = PhaseFactory(track=world["phase"].track, slug="other")
    response = _post(client, world, key="k", phase=other)
    assert response.status_code == 409
    assert response.json() == {
        "code": "idempotency_key_reused", "details": {},
        "message": "This Idempotency-Key was already used for a submission to another phase; send a new key.",
    }
    assert Submission.objects.count() == 1


def test_keys_belong_to_the_team(client, world):
    assert _post(client, world, key="shared").status_code == 201
    stranger = UserFactory()
    ready_team(challenge=world["phase"].track.challenge, members=[stranger], name="Other team")
    theirs = {"phase": world["phase"], "token": api_token_create(user=stranger, name="cli").raw}
    response = _post(client, theirs, key="shared")
    assert response.status_code == 201
    assert Submission.objects.count() == 2
