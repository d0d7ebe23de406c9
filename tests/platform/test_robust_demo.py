"""The demo's MER-NOISE track end to end: its baseline model, submitted through the API, runs on every
condition of the phase's protocol (the platform corrupts the clean hidden media itself) and is scored
on each; the board and its CSV carry one column per condition."""

from __future__ import annotations

import csv
import io
import math

import pytest

from arena.challenges.models import Phase
from arena.challenges.robustness import phase_protocol
from arena.demo.services import demo_load
from arena.submissions.models import Submission, SubmissionStatus
from sandboxes import engine_available, image_present
from sandboxes.baselines import TORCH_IMAGE
from sandboxes.conditions import CORRUPT_IMAGE
from tests.conftest import require
from tests.platform.factories import UserFactory, ready_team
from tests.platform.test_container_pipeline import _status, _submit
from tests.platform.worker import broker_for_tests, celery_worker, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASELINE = "mer-noise-melnet"


def test_the_baseline_is_scored_on_every_condition_of_the_demo_protocol(client, tmp_path):
    from sandboxes.baselines import save_baseline_archive
    from sandboxes.baselines.demo_data import write_demo_training_sets

    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    for image in (TORCH_IMAGE, CORRUPT_IMAGE):
        require(image_present(image), f"needs {image}: build it with infra/sandbox-images/build.sh")
    demo_load(with_submissions=False)
    phase = Phase.objects.select_related("track__challenge").get(
        track__challenge__slug="mer-style", track__slug="mer-noise", slug="validation")
    protocol = phase_protocol(phase)
    assert protocol is not None and len(protocol.conditions) >= 5
    names = protocol.names
    user = UserFactory()
    ready_team(challenge=phase.track.challenge, members=[user], name="Robust baseline team")
    (train_data,) = write_demo_training_sets(tmp_path / "train", [BASELINE]).values()
    archive = tmp_path / "baseline.tar.gz"
    save_baseline_archive(BASELINE, archive, compress=True, train_data=train_data)

    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), queues="sandbox", log_path=log):
        pk = _submit(client, user, phase, archive.read_bytes(), "melnet.tar.gz")
        wait_for(lambda: _status(pk) in ("scored", "failed"), timeout=900, what="the protocol's runs",
                 log_path=log)
    submission = Submission.objects.get(pk=pk)
    assert submission.status == SubmissionStatus.SCORED, submission.error_message
    for name in names:
        assert f"== condition {name} (" in submission.logs

    public = submission.scores.get(split="public")
    scores = {c["name"]: c["score"] for c in public.conditions}
    assert list(scores) == names and all(isinstance(s, float) for s in scores.values())
    assert math.isclose(public.score, math.fsum(scores.values()) / len(scores), abs_tol=1e-12)  # "mean"
    assert scores["clean"] > min(scores.values())
    # Noise hurts, and noise plus blur hurts more than either alone.
    assert scores["clean"] > scores["snr0"] and scores["snr0+blur4"] < min(scores["snr0"], scores["blur4"])

    client.force_login(user)
    detail = client.get(f"/api/v1/submissions/{pk}").json()
    assert [c["name"] for c in detail["scores"]["public"]["conditions"]] == names
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    (row,) = [e for e in board["entries"] if e["team_name"] == "Robust baseline team"]
    assert row["score"] == pytest.approx(public.score, abs=1e-9)
    assert list(row["conditions"]) == names
    assert row["conditions"] == pytest.approx(scores, abs=1e-9)
    table = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv").content
                                            .decode("utf-8"))))
    (line,) = [r for r in table if r["team"] == "Robust baseline team"]
    for name in names:
        assert float(line[f"condition:{name}"]) == pytest.approx(scores[name], abs=1e-6)
    page = client.get(f"/submissions/{pk}/")
    assert "<svg" in page.text and "snr0+blur4" in page.text
