"""Large prediction files go straight to S3 with a presigned POST and are submitted by key."""

import pytest
import requests

from arena.submissions.models import Submission
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = [pytest.mark.django_db, pytest.mark.s3]

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


@pytest.fixture
def member(client):
    user = UserFactory()
    phase = PhaseFactory()
    team = ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    return client, phase, team


def test_ticket_upload_then_submit_by_key(s3_storage, member):
    client, phase, _ = member
    assert phase.reference_public.storage.bucket_name == s3_storage.name  # references live in the bucket too
    ticket = client.post(f"/api/v1/phases/{phase.pk}/uploads", {"filename": "big preds.csv"},
                         content_type="application/json")
    assert ticket.status_code == 201, ticket.content
    body = ticket.json()
    assert body["max_bytes"] == 50 * 1024 * 1024 and body["key"].endswith("/big_preds.csv")
    posted = requests.post(body["url"], data=body["fields"], files={"file": ("p.csv", GOOD)}, timeout=30)
    assert posted.status_code in (200, 204), posted.text
    response = client.post(f"/api/v1/phases/{phase.pk}/submissions",
                           {"upload_key": body["key"], "method_name": "direct"}, content_type="application/json")
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert submission.file.read() == GOOD and submission.file_name == "big_preds.csv"
    # The uploaded object is gone; the submission keeps its own copy.
    assert "Contents" not in s3_storage.client().list_objects_v2(Bucket=s3_storage.name,
                                                                   Prefix="submission-uploads/")


def test_an_upload_over_the_track_limit_is_refused_and_removed(s3_storage, member):
    # The presigned POST carries the limit as a content-length-range condition, which S3 enforces
    # (the loopback server does not); the platform checks the size again when it reads the upload.
    client, phase, _ = member
    phase.track.max_upload_mb = 1
    phase.track.save()
    body = client.post(f"/api/v1/phases/{phase.pk}/uploads", {"filename": "p.csv"},
                       content_type="application/json").json()
    assert ["content-length-range", 1, 1024 * 1024] in _policy_conditions(body["fields"])
    requests.post(body["url"], data=body["fields"], files={"file": ("p.csv", b"x" * (1024 * 1024 + 1))},
                  timeout=30).raise_for_status()
    response = client.post(f"/api/v1/phases/{phase.pk}/submissions", {"upload_key": body["key"], "method_name": "m"},
                           content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert not Submission.objects.exists()
    assert "Contents" not in s3_storage.client().list_objects_v2(Bucket=s3_storage.name,
                                                                   Prefix="submission-uploads/")


def _policy_conditions(fields: dict) -> list:
    import base64
    import json

    return json.loads(base64.b64decode(fields["policy"]))["conditions"]


def test_keys_of_other_teams_or_other_objects_are_not_found(s3_storage, member):
    client, phase, team = member
    other = ready_team(challenge=phase.track.challenge, members=[UserFactory()], name="Others")
    for key in (f"submission-uploads/{other.pk}/abc/p.csv", phase.reference_public.name,
                f"submission-uploads/{team.pk}/../{other.pk}/p.csv", f"submission-uploads/{team.pk}/missing/p.csv"):
        response = client.post(f"/api/v1/phases/{phase.pk}/submissions", {"upload_key": key, "method_name": "x"},
                               content_type="application/json")
        assert response.status_code == 404 and response.json()["code"] == "upload_not_found", key
    assert not Submission.objects.exists()


def test_direct_uploads_need_s3(member):
    client, phase, _ = member
    response = client.post(f"/api/v1/phases/{phase.pk}/uploads", {"filename": "p.csv"},
                           content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "direct_upload_unavailable"


def test_file_and_key_together_is_a_clear_error(member):
    client, phase, _ = member
    from django.core.files.base import ContentFile

    response = client.post(f"/api/v1/phases/{phase.pk}/submissions",
                           {"file": ContentFile(GOOD, name="p.csv"), "upload_key": "x", "method_name": "m"})
    assert response.status_code == 400 and "either `file` or `upload_key`" in response.json()["message"]
