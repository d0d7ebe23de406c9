"""A model archive submitted through the API runs in the real sandbox on a `sandbox` worker and is scored."""

from __future__ import annotations

import io
import tarfile
import uuid

import pytest
from django.core.files.base import ContentFile

from arena.submissions.models import Submission, SubmissionStatus
from fixtures.demo.specs import challenge_by_slug
from fixtures.demo.synthetic import generate_track_files
from sandboxes import engine_available, image_present
from tests.conftest import require
from tests.platform.factories import PhaseFactory, UserFactory, ready_team
from tests.platform.worker import broker_for_tests, celery_worker, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE_IMAGE = "arena/sandbox-base:latest"


@pytest.fixture
def noise_phase():
    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    require(image_present(BASE_IMAGE), f"needs {BASE_IMAGE}: build it with infra/sandbox-images/build.sh")
    spec = challenge_by_slug("mer-style").track("mer-noise")
    files = generate_track_files("mer-style", spec)
    phase = PhaseFactory(
        track__scorer_key="mer.multi", track__accepts_containers=True, track__container_wall_seconds=120,
        track__container_memory_mb=1024, track__max_image_mb=4096,
        reference_public=ContentFile(files.reference_public, name="public.csv"),
        reference_private=ContentFile(files.reference_private, name="private.csv"),
        container_inputs=ContentFile(files.container_inputs, name="test-media.tar.gz"),
    )
    user = UserFactory()
    ready_team(challenge=phase.track.challenge, members=[user], name="Model team")
    return phase, user


def _submit(client, user, phase, archive: bytes, name: str) -> int:
    client.force_login(user)
    response = client.post(f"/api/v1/phases/{phase.pk}/container-submissions",
                           {"image_archive": ContentFile(archive, name=name), "method_name": name})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _status(pk: int) -> str:
    return Submission.objects.values_list("status", flat=True).get(pk=pk)


def test_baseline_archive_runs_and_is_scored(client, noise_phase, tmp_path):
    from sandboxes.baselines import save_baseline_archive
    from sandboxes.baselines.demo_data import write_demo_training_sets

    phase, user = noise_phase
    archive = tmp_path / "baseline.tar.gz"
    (train_data,) = write_demo_training_sets(tmp_path / "train", ["mer-noise-melnet"]).values()
    save_baseline_archive("mer-noise-melnet", archive, compress=True, train_data=train_data)
    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), queues="sandbox", log_path=log):
        pk = _submit(client, user, phase, archive.read_bytes(), "baseline.tar.gz")
        wait_for(lambda: _status(pk) in ("scored", "failed"), timeout=240, what="the model run", log_path=log)
    submission = Submission.objects.get(pk=pk)
    assert submission.status == SubmissionStatus.SCORED, submission.error_message
    assert submission.image_digest.startswith("sha256:") and submission.started_at is not None
    assert "wrote" in submission.logs and submission.attempts == 1
    assert set(submission.scores.values_list("split", flat=True)) == {"public", "private"}
    detail = client.get(f"/api/v1/submissions/{pk}").json()
    assert detail["status"] == "scored" and "public" in detail["scores"]


def _image_archive(engine, script: str) -> bytes:
    """A model image FROM the sandbox base whose command is ``python3 -c script``, as `docker save` bytes."""
    import json

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        data = f"FROM {BASE_IMAGE}\nCMD {json.dumps(['python3', '-c', script])}\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = f"team/model-{uuid.uuid4().hex[:8]}:1"
    image, _ = engine.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, network_mode="none",
                                   pull=False)
    try:
        return b"".join(image.save(named=tag))
    finally:
        engine.images.remove(image.id, force=True)


def test_a_model_that_writes_nothing_fails_with_a_message_to_act_on(client, noise_phase, tmp_path):
    from sandboxes.engine import docker_client

    phase, user = noise_phase
    archive = _image_archive(docker_client(), "print('thinking very hard')")
    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), queues="sandbox", log_path=log):
        pk = _submit(client, user, phase, archive, "silent.tar")
        wait_for(lambda: _status(pk) in ("scored", "failed"), timeout=180, what="the model run", log_path=log)
    submission = Submission.objects.get(pk=pk)
    assert submission.status == SubmissionStatus.FAILED
    assert "predictions.csv" in submission.error_message
    assert "thinking very hard" in submission.logs
    assert not submission.scores.exists()
