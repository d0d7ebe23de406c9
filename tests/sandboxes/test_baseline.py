"""The torch baseline runs in the sandbox on the demo's hidden test inputs and scores."""

from __future__ import annotations

import csv
import shutil

import pytest

from fixtures.demo.cli import write_track
from fixtures.demo.specs import challenge_by_slug
from sandboxes import SandboxLimits, image_present, load_image_archive, run_container
from sandboxes.archives import inspect_image_archive
from sandboxes.baselines import (
    BASELINE_TRACKS,
    TORCH_IMAGE,
    build_baseline,
    save_baseline_archive,
)
from scorers import get_scorer
from tests.conftest import require

pytestmark = pytest.mark.docker

BASELINE = "mer-noise-linear"


@pytest.fixture(scope="module")
def baseline_image(engine):
    require(image_present(TORCH_IMAGE, engine),
            f"needs {TORCH_IMAGE}: build it with `bash infra/sandbox-images/build.sh`")
    return build_baseline(BASELINE, client=engine)


def _rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_baseline_predicts_the_demo_track_and_scores(baseline_image, run_ids, tmp_path):
    challenge_slug, track_slug = BASELINE_TRACKS[BASELINE]
    challenge = challenge_by_slug(challenge_slug)
    track = challenge.track(track_slug)
    assert track.accepts_containers is True
    demo = write_track(tmp_path / "demo", challenge, track)
    (hidden,) = [
        file for dataset in challenge.datasets for file in dataset.files
        if file.track_slug == track_slug and file.kind == track.data.test_inputs
    ]
    input_dir = tmp_path / "input"
    input_dir.mkdir(mode=0o755)
    input_dir.chmod(0o755)
    shutil.copy(demo / hidden.name, input_dir / hidden.name)
    (input_dir / hidden.name).chmod(0o644)

    result = run_container(
        baseline_image,
        input_dir=input_dir,
        output_dir=tmp_path / "output",
        limits=SandboxLimits(wall_seconds=120, memory_mb=1024, cpus=1.0),
    )

    assert result.failure is None, result.logs
    assert result.output_files == ["predictions.csv"]
    assert result.logs == "wrote 300 predictions to /output/predictions.csv\n"
    predictions = _rows(tmp_path / "output" / "predictions.csv")
    inputs = _rows(input_dir / hidden.name)
    assert predictions[0] == ["name", "discrete", "valence"]
    assert [row[0] for row in predictions[1:]] == [row[0] for row in inputs[1:]]
    assert {row[1] for row in predictions[1:]} <= {
        "neutral", "angry", "happy", "sad", "worried", "surprise"
    }
    assert all(-5.0 <= float(row[2]) <= 5.0 for row in predictions[1:])

    scored = get_scorer(track.scorer_key).score(
        gold=demo / "reference.csv", pred=tmp_path / "output" / "predictions.csv"
    )
    # Fixed-seed weights make the predictions, hence the score, the same on every run.
    assert scored.metrics["accuracy"] == 45 / 300
    assert scored.metrics["waf"] == pytest.approx(0.12279064855020505, abs=1e-9)
    assert scored.metrics["mse"] == pytest.approx(6.3495867425, abs=1e-6)
    assert scored.score == pytest.approx(-1.4646060370747949, abs=1e-6)


def test_the_baseline_saves_as_an_uploadable_archive(baseline_image, engine, tmp_path):
    archive = tmp_path / "baseline.tar"
    assert save_baseline_archive(BASELINE, archive, client=engine) == baseline_image
    described = inspect_image_archive(archive, max_bytes=2 * 2**30)
    assert described.image_id == baseline_image
    assert described.repo_tags == (f"demo/baseline-{BASELINE}:latest",)
    # Already on the worker, so it is pinned without being loaded again.
    assert load_image_archive(archive, max_bytes=2 * 2**30, client=engine) == baseline_image
