"""Models under a robustness protocol, end to end on a real sandbox worker: the platform corrupts the clean
hidden inputs itself, runs the model once per condition and scores each; a model that hangs on one
condition fails that condition only (or the submission, as the protocol says) and leaves no container."""

from __future__ import annotations

import io
import math
import tarfile
import wave

import numpy as np
import pytest
from django.core.files.base import ContentFile

import scorers
from arena.submissions.models import Submission, SubmissionStatus
from sandboxes import engine_available, image_present
from sandboxes.conditions import CORRUPT_IMAGE
from sandboxes.engine import docker_client
from tests.conftest import require
from tests.platform.factories import DISCRETE_PRIVATE, DISCRETE_PUBLIC, PhaseFactory, UserFactory, ready_team
from tests.platform.test_container_pipeline import BASE_IMAGE, _image_archive, _status, _submit
from tests.platform.worker import broker_for_tests, celery_worker, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KEYS = ("s1", "s2", "s3", "s4", "s5")
WALL_SECONDS = 8
# Stdlib only (the base image has no numpy): hang when the audio is silent (the "mute" condition), else
# predict "happy" for every clip.
HANG_WHEN_MUTED = """
import array, os, time, wave
names = sorted(f[:-4] for f in os.listdir('/input') if f.endswith('.wav'))
with wave.open('/input/' + names[0] + '.wav') as w:
    samples = array.array('h', w.readframes(w.getnframes()))
print('clips', len(names), 'loudest', max(abs(x) for x in samples), flush=True)
if not any(samples):
    time.sleep(3600)
with open('/output/predictions.csv', 'w') as out:
    out.write('name,discrete\\n' + ''.join(n + ',happy\\n' for n in names))
"""


def _wav(seconds: float, frequency: float) -> bytes:
    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = (0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _clean_inputs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for index, key in enumerate(KEYS):
            data = _wav(1.0, 180.0 + 40 * index)
            info = tarfile.TarInfo(f"{key}.wav")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _protocol(on_failure: str) -> dict:
    return {"conditions": [{"name": "clean", "condition": "clean"}, {"name": "muted", "condition": "mute"},
                           {"name": "snr10", "condition": "noise:white@10db"}],
            "seed": 11, "summary": "mean", "on_failure": on_failure}


@pytest.fixture
def protected_phase(request):
    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    for image in (BASE_IMAGE, CORRUPT_IMAGE):
        require(image_present(image), f"needs {image}: build it with infra/sandbox-images/build.sh")
    phase = PhaseFactory(
        track__scorer_key="mer.discrete", track__accepts_containers=True, track__accepts_files=False,
        track__container_wall_seconds=WALL_SECONDS, track__container_memory_mb=512,
        container_inputs=ContentFile(_clean_inputs(), name="clean-inputs.tar.gz"),
    )
    phase.robustness_protocol = _protocol(request.param)
    phase.full_clean()
    phase.save()
    user = UserFactory()
    ready_team(challenge=phase.track.challenge, members=[user], name="Fragile team")
    return phase, user


def _leftover_containers(tag_prefix: str) -> list[str]:
    engine = docker_client()
    return [c.name for c in engine.containers.list(all=True, filters={"label": "arena.sandbox=1"})
            if any(tag.startswith(tag_prefix) for tag in (c.image.tags if c.image else []))]


def _run_hanging_model(client, phase, user, tmp_path) -> Submission:
    archive = _image_archive(docker_client(), HANG_WHEN_MUTED)
    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), queues="sandbox", log_path=log):
        pk = _submit(client, user, phase, archive, "fragile.tar")
        wait_for(lambda: _status(pk) in ("scored", "failed"), timeout=300, what="the protocol's runs",
                 log_path=log)
    return Submission.objects.get(pk=pk)


@pytest.mark.parametrize("protected_phase", ["condition"], indirect=True)
def test_a_model_that_hangs_on_one_condition_fails_that_condition_only(client, protected_phase, tmp_path):
    phase, user = protected_phase
    submission = _run_hanging_model(client, phase, user, tmp_path)
    assert submission.status == SubmissionStatus.SCORED, submission.error_message
    scorer = scorers.get_scorer("mer.discrete")
    happy = "name,discrete\n" + "".join(f"{key},happy\n" for key in KEYS)
    for split, gold in (("public", DISCRETE_PUBLIC), ("private", DISCRETE_PRIVATE)):
        expected = scorer.score(gold=gold, pred=happy.encode()).score
        score = submission.scores.get(split=split)
        by_name = {c["name"]: c for c in score.conditions}
        assert [c["name"] for c in score.conditions] == ["clean", "muted", "snr10"]
        assert by_name["clean"]["score"] == pytest.approx(expected, abs=1e-12)
        assert by_name["snr10"]["score"] == pytest.approx(expected, abs=1e-12)
        assert by_name["muted"]["score"] is None
        assert f"{WALL_SECONDS}" in by_name["muted"]["error"] and "time" in by_name["muted"]["error"].lower()
        assert math.isclose(score.score, 2 * expected / 3, abs_tol=1e-12)
    # Every condition's log is kept, under its own heading.
    assert "== condition clean (clean) ==" in submission.logs and "== condition muted (mute) ==" in submission.logs
    assert _leftover_containers("team/model-") == []


@pytest.mark.parametrize("protected_phase", ["submission"], indirect=True)
def test_with_on_failure_submission_one_hanging_condition_fails_the_submission(client, protected_phase, tmp_path):
    phase, user = protected_phase
    submission = _run_hanging_model(client, phase, user, tmp_path)
    assert submission.status == SubmissionStatus.FAILED
    assert "muted" in submission.error_message and "time" in submission.error_message.lower()
    assert not submission.scores.exists()
    assert "== condition snr10" not in submission.logs  # the remaining condition was not run
    assert _leftover_containers("team/model-") == []
