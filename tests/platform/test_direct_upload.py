"""Large prediction files go straight to S3 with a presigned POST and are submitted by key."""

import hashlib
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from arena.submissions.models import RefusedUpload, Submission, SubmissionStatus
from tests.platform.factories import PhaseFactory, UserFactory, ready_team
from tests.sandboxes.archive_factory import write_archive

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


# --- model archives (container tracks) -------------------------------------------------------

MB = 1024 * 1024


@pytest.fixture
def modeller(client):
    user = UserFactory()
    phase = PhaseFactory(track__accepts_files=False, track__accepts_containers=True, track__max_image_mb=1)
    team = ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    return client, phase, team


def _model_ticket(client, phase, filename="model.tar.gz"):
    response = client.post(f"/api/v1/phases/{phase.pk}/uploads", {"filename": filename, "kind": "image_archive"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _post(ticket, data: bytes) -> None:
    requests.post(ticket["url"], data=ticket["fields"], files={"file": ("m.tar.gz", data)}, timeout=30
                  ).raise_for_status()


def _submit_key(client, phase, key, **headers):
    return client.post(f"/api/v1/phases/{phase.pk}/container-submissions", {"upload_key": key, "method_name": "CNN"},
                       content_type="application/json", headers=headers)


def _stored_keys(s3_storage, prefix: str) -> list[str]:
    listing = s3_storage.client().list_objects_v2(Bucket=s3_storage.name, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_model_archive_ticket_upload_then_submit_by_key(s3_storage, modeller, tmp_path):
    client, phase, team = modeller
    archive = write_archive(tmp_path / "model.tar.gz", gz=True).read_bytes()
    ticket = _model_ticket(client, phase, "my model.tar.gz")
    assert ticket["max_bytes"] == MB
    assert ticket["key"].startswith(f"model-uploads/{team.pk}/{phase.pk}/")
    assert ticket["key"].endswith("/my_model.tar.gz")
    assert ["content-length-range", 1, MB] in _policy_conditions(ticket["fields"])
    _post(ticket, archive)
    response = _submit_key(client, phase, ticket["key"], **{"Idempotency-Key": "once"})
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert (submission.kind, submission.status) == ("container", SubmissionStatus.QUEUED)
    assert submission.image_archive.name == ticket["key"]
    assert (submission.file_name, submission.file_size, submission.file_sha256) == ("my_model.tar.gz", len(archive), "")
    # The submission keeps the uploaded object itself: nothing was copied through the web server.
    assert _stored_keys(s3_storage, "model-uploads/") == [ticket["key"]]
    assert submission.image_archive.read() == archive
    # A retry with the same idempotency key answers with the same submission; without it, the key is used up.
    again = _submit_key(client, phase, ticket["key"], **{"Idempotency-Key": "once"})
    assert again.status_code == 200 and again.json()["id"] == submission.pk
    reused = _submit_key(client, phase, ticket["key"])
    assert reused.status_code == 409 and reused.json()["code"] == "upload_already_submitted"
    assert reused.json()["message"] == (
        f"This upload was already submitted (submission {submission.pk}); to submit the model again, ask for a new "
        "upload ticket and upload it again.")
    assert Submission.objects.count() == 1 and _stored_keys(s3_storage, "model-uploads/") == [ticket["key"]]


def test_an_oversize_model_archive_is_refused_and_removed(s3_storage, modeller):
    client, phase, _ = modeller
    ticket = _model_ticket(client, phase)
    _post(ticket, b"\x1f\x8b" + b"x" * MB)  # S3 itself would refuse it (content-length-range); moto does not
    response = _submit_key(client, phase, ticket["key"])
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert response.json()["details"] == {"field": "image_archive", "limit_bytes": MB}
    assert "larger than this track's limit of 1 MB" in response.json()["message"]
    assert not Submission.objects.exists() and _stored_keys(s3_storage, "model-uploads/") == []
    assert RefusedUpload.objects.get().code == "file_too_large"


def test_a_file_that_is_no_archive_is_refused_from_its_first_bytes(s3_storage, modeller):
    client, phase, _ = modeller
    ticket = _model_ticket(client, phase)
    _post(ticket, b"PK\x03\x04 a zip, not a docker save archive" * 20)
    response = _submit_key(client, phase, ticket["key"])
    assert response.status_code == 400 and response.json()["code"] == "invalid_image_archive"
    assert response.json()["message"] == (
        "The uploaded file is not a `docker save` archive (neither a tar nor a gzip file). Create the archive "
        "with: docker save my-model:latest | gzip > model.tar.gz")
    assert not Submission.objects.exists() and _stored_keys(s3_storage, "model-uploads/") == []


def test_model_keys_of_another_team_or_phase_are_refused_and_left_alone(s3_storage, modeller, tmp_path):
    client, phase, team = modeller
    archive = write_archive(tmp_path / "model.tar").read_bytes()
    other_user = UserFactory()
    other_team = ready_team(challenge=phase.track.challenge, members=[other_user], name="Others")
    client.force_login(other_user)
    theirs = _model_ticket(client, phase)
    _post(theirs, archive)
    other_phase = PhaseFactory(track=phase.track, title="Second phase")
    client.force_login(team.memberships.first().user)
    elsewhere = _model_ticket(client, other_phase)
    _post(elsewhere, archive)
    predictions = f"submission-uploads/{team.pk}/abc/model.tar"
    s3_storage.client().put_object(Bucket=s3_storage.name, Key=predictions, Body=archive)
    assert theirs["key"].startswith(f"model-uploads/{other_team.pk}/{phase.pk}/")
    for key in (theirs["key"], elsewhere["key"], predictions, f"model-uploads/{team.pk}/{phase.pk}/../x/model.tar",
                f"model-uploads/{team.pk}/{phase.pk}/missing/model.tar"):
        response = _submit_key(client, phase, key)
        assert response.status_code == 404 and response.json()["code"] == "upload_not_found", key
        assert response.json()["message"] == (
            "No model archive uploaded with that key by your team for this phase; ask for a new upload ticket "
            "(kind image_archive) and upload again.")
    assert not Submission.objects.exists() and not RefusedUpload.objects.exists()
    assert sorted(_stored_keys(s3_storage, "model-uploads/") + _stored_keys(s3_storage, "submission-uploads/")) == (
        sorted([theirs["key"], elsewhere["key"], predictions]))


def test_model_tickets_follow_the_tracks_kinds(s3_storage, member):
    client, file_phase, _ = member
    response = client.post(f"/api/v1/phases/{file_phase.pk}/uploads", {"filename": "m.tar", "kind": "image_archive"},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "kind_not_accepted"
    response = client.post(f"/api/v1/phases/{file_phase.pk}/uploads", {"filename": "m.tar", "kind": "weights"},
                           content_type="application/json")
    assert response.status_code == 400


def test_model_direct_uploads_need_s3(modeller):
    client, phase, _ = modeller
    response = client.post(f"/api/v1/phases/{phase.pk}/uploads", {"filename": "m.tar", "kind": "image_archive"},
                           content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "direct_upload_unavailable"


def test_the_worker_streams_the_upload_and_checks_it_fully(s3_storage, modeller, tmp_path, monkeypatch):
    """The web request read 512 bytes; the worker copies the whole object, records its sha256, and
    its full layout check fails the submission with the upload form's message."""
    from arena.submissions.services import sandbox_run
    from sandboxes import SandboxError

    client, phase, _ = modeller
    archive = write_archive(tmp_path / "model.tar", with_config=False).read_bytes()  # a valid tar header
    ticket = _model_ticket(client, phase)
    _post(ticket, archive)
    submission_id = _submit_key(client, phase, ticket["key"]).json()["id"]
    loaded = []

    def load(path, *, max_bytes):
        loaded.append((path.read_bytes(), max_bytes))
        raise SandboxError("The archive's manifest names a config file that is not in the archive.")

    monkeypatch.setattr(sandbox_run, "engine_available", lambda: True)
    monkeypatch.setattr(sandbox_run, "load_image_archive", load)
    token = Submission.objects.get(pk=submission_id).claim_token
    assert sandbox_run.submission_run_container(submission_id=submission_id, token=token) == SubmissionStatus.FAILED
    submission = Submission.objects.get(pk=submission_id)
    assert loaded == [(archive, MB)]
    assert submission.file_sha256 == hashlib.sha256(archive).hexdigest()
    assert submission.error_message == (
        "The archive's manifest names a config file that is not in the archive. Create the archive with: "
        "docker save my-model:latest | gzip > model.tar.gz")


def test_an_archive_uploaded_again_after_submitting_is_not_run(s3_storage, modeller, tmp_path, monkeypatch):
    from arena.submissions.services import sandbox_run

    client, phase, _ = modeller
    ticket = _model_ticket(client, phase)
    _post(ticket, write_archive(tmp_path / "model.tar").read_bytes())
    submission_id = _submit_key(client, phase, ticket["key"]).json()["id"]
    # The ticket is still valid: the same POST replaces the object. Seen from the worker, the
    # submission was made a minute before that.
    _post(ticket, write_archive(tmp_path / "other.tar", tags=("team/other:2",)).read_bytes())
    Submission.objects.filter(pk=submission_id).update(created_at=timezone.now() - timedelta(minutes=1))
    monkeypatch.setattr(sandbox_run, "engine_available", lambda: True)
    monkeypatch.setattr(sandbox_run, "load_image_archive", lambda *a, **k: pytest.fail("loaded a replaced archive"))
    token = Submission.objects.get(pk=submission_id).claim_token
    assert sandbox_run.submission_run_container(submission_id=submission_id, token=token) == SubmissionStatus.FAILED
    assert Submission.objects.get(pk=submission_id).error_message == (
        "Your model archive was uploaded again after you submitted it, so it is not the model you submitted; it "
        "was not run. Submit the model again (with a new upload ticket).")


def test_a_key_with_an_image_reference_is_a_clear_error(modeller):
    client, phase, _ = modeller
    response = client.post(f"/api/v1/phases/{phase.pk}/container-submissions",
                           {"upload_key": "x", "image_reference": "ghcr.io/a/b:1", "method_name": "m"},
                           content_type="application/json")
    assert response.status_code == 400
    assert "Send one of `image_archive`, `upload_key` (after a direct upload) or `image_reference`." in (
        response.json()["message"])
    assert not Submission.objects.exists()
