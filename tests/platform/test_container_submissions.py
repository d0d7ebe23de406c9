"""Containerised model submissions: acceptance rules, routing, and a real run in the sandbox."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from arena.core.errors import DomainError
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services.containers import submission_create_container, unpack_container_inputs
from arena.submissions.services.create import MethodInfo
from arena.submissions.services.queueing import queue_for
from arena.submissions.services.sandbox_run import sandbox_limits
from tests.platform.factories import PhaseFactory, UserFactory, ready_team
from tests.sandboxes.archive_factory import write_archive

MB = 1024 * 1024


@pytest.fixture
def world(db):
    user = UserFactory()
    phase = PhaseFactory(track__accepts_files=False, track__accepts_containers=True, track__max_image_mb=1,
                         track__image_allowlist="ghcr.io/affect-lab\n")
    ready_team(challenge=phase.track.challenge, members=[user])
    return user, phase


def _create(user, phase, **kwargs):
    return submission_create_container(user=user, phase=phase, method=MethodInfo("Model"), **kwargs)


def test_archive_is_stored_and_queued_for_a_cpu_sandbox(world, django_capture_on_commit_callbacks, tmp_path):
    user, phase = world
    archive = write_archive(tmp_path / "model.tar").read_bytes()
    with django_capture_on_commit_callbacks() as callbacks:
        submission, created = _create(user, phase, archive=io.BytesIO(archive), archive_name="model.tar")
    assert created and submission.status == SubmissionStatus.QUEUED and submission.kind == "container"
    assert submission.image_archive.read() == archive and submission.file_size == len(archive)
    assert queue_for(submission) == "sandbox" and len(callbacks) == 1


def test_gpu_tracks_go_to_the_gpu_queue_and_cpu_tracks_get_no_gpus(world, monkeypatch):
    user, phase = world
    monkeypatch.setenv("ARENA_SANDBOX_GPU_IDS", "0,1")
    submission, _ = _create(user, phase, image_reference="ghcr.io/affect-lab/model:1")
    assert queue_for(submission) == "sandbox"
    assert sandbox_limits(phase.track).gpu_device_ids == () and sandbox_limits(phase.track).gpus == 0
    phase.track.container_gpus = 1
    phase.track.save()
    submission.refresh_from_db()
    assert queue_for(submission) == "sandbox-gpu"
    assert sandbox_limits(phase.track).gpus == 1 and sandbox_limits(phase.track).gpu_device_ids == ("0", "1")


@pytest.mark.parametrize("kwargs,code,status", [
    ({"archive": io.BytesIO(b"x" * (MB + 1)), "archive_name": "big.tar"}, "file_too_large", 413),
    ({"archive": io.BytesIO(b"this is not a tar archive" * 40), "archive_name": "m.tar"}, "invalid_image_archive", 400),
    ({"image_reference": "docker.io/evil/miner:latest"}, "image_not_allowed", 403),
    ({"image_reference": "UPPER CASE!!"}, "invalid_image_reference", 400),
    ({}, "invalid", 400),
    ({"archive": io.BytesIO(b"x"), "image_reference": "ghcr.io/affect-lab/m:1"}, "invalid", 400),
])
def test_refused_models_change_nothing(world, kwargs, code, status):
    user, phase = world
    with pytest.raises(DomainError) as err:
        _create(user, phase, **kwargs)
    assert (err.value.code, err.value.status) == (code, status)
    assert not Submission.objects.exists()


@override_settings(ARENA_IMAGE_ALLOWLIST=["registry.example.org"])
def test_site_allowlist_adds_to_the_tracks(world):
    user, phase = world
    submission, _ = _create(user, phase, image_reference="registry.example.org/team/model:2")
    assert submission.image_reference == "registry.example.org/team/model:2"


def test_file_only_tracks_refuse_models(db):
    user = UserFactory()
    phase = PhaseFactory()
    ready_team(challenge=phase.track.challenge, members=[user])
    with pytest.raises(DomainError, match="takes prediction files, not containerised models"):
        _create(user, phase, image_reference="ghcr.io/x/y:1")


def test_inputs_are_unpacked_readable_and_safe(db, tmp_path):
    phase = PhaseFactory()
    phase.container_inputs.save("inputs.zip", ContentFile(_zip({"a/clips.csv": b"name\nx\n"})), save=True)
    unpack_container_inputs(phase, tmp_path / "in")
    assert (tmp_path / "in" / "a" / "clips.csv").read_bytes() == b"name\nx\n"
    assert oct((tmp_path / "in" / "a" / "clips.csv").stat().st_mode & 0o777) == "0o644"
    phase.container_inputs.save("evil.zip", ContentFile(_zip({"../escape.csv": b"x"})), save=True)
    with pytest.raises(DomainError, match="unsafe path"):
        unpack_container_inputs(phase, tmp_path / "in2")
    assert not (tmp_path / "escape.csv").exists()
    phase.container_inputs.save("clips.csv", ContentFile(b"name\ny\n"), save=True)
    unpack_container_inputs(phase, tmp_path / "in3")
    assert [p.read_bytes() for p in (tmp_path / "in3").iterdir()] == [b"name\ny\n"]


def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_no_engine_after_every_retry_fails_with_a_clear_message(world, monkeypatch):
    from arena.submissions.services import sandbox_run
    from arena.submissions.services.sandbox_run import EngineUnavailable, submission_run_container

    user, phase = world
    submission, _ = _create(user, phase, image_reference="ghcr.io/affect-lab/model:1")
    monkeypatch.setattr(sandbox_run, "engine_available", lambda: False)
    with pytest.raises(EngineUnavailable):
        submission_run_container(submission_id=submission.pk, token=submission.claim_token)
    assert Submission.objects.get(pk=submission.pk).status == SubmissionStatus.QUEUED  # untouched: retried later
    assert sandbox_run.submission_fail_no_sandbox(submission_id=submission.pk) == SubmissionStatus.FAILED
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILED and "No sandbox host" in submission.error_message


def test_a_redelivered_message_never_starts_a_second_run_of_the_same_model(world, monkeypatch):
    from arena.submissions.services import lifecycle, sandbox_run
    from arena.submissions.services.sandbox_run import submission_run_container

    user, phase = world
    submission, _ = _create(user, phase, image_reference="ghcr.io/affect-lab/model:1")
    token = Submission.objects.get(pk=submission.pk).claim_token
    assert lifecycle.submission_claim(submission_id=submission.pk, token=token, to=SubmissionStatus.RUNNING)
    runs = []
    monkeypatch.setattr(sandbox_run, "run_container", lambda *args, **kwargs: runs.append(args))
    # The broker hands the same message to another worker while the first one still runs the model.
    assert submission_run_container(submission_id=submission.pk, token=token) == SubmissionStatus.RUNNING
    assert runs == []
    submission.refresh_from_db()
    assert (submission.status, submission.attempts, submission.claim_token) == (SubmissionStatus.RUNNING, 1, token)
