"""The torch baseline, trained when its image is built, runs in the sandbox on the demo's hidden
test media, clean and corrupted, and scores."""

from __future__ import annotations

import csv
import os
import tarfile
from pathlib import Path

import pytest

from fixtures.demo.cli import CONTAINER_INPUTS_NAME, write_track
from fixtures.demo.specs import challenge_by_slug
from sandboxes import SandboxError, SandboxLimits, image_present, load_image_archive, run_container
from sandboxes.archives import inspect_image_archive
from sandboxes.baselines import (
    BASELINE_TRACKS,
    TORCH_IMAGE,
    build_baseline,
    save_baseline_archive,
)
from sandboxes.baselines.demo_data import write_demo_training_sets
from scorers import get_scorer
from tests.conftest import require

pytestmark = pytest.mark.docker

BASELINE = "mer-noise-melnet"
REPO = Path(__file__).resolve().parents[2]
EMOTIONS = {"neutral", "angry", "happy", "sad", "worried", "surprise"}
LIMITS = SandboxLimits(wall_seconds=120, memory_mb=1024, cpus=1.0)


@pytest.fixture(scope="module")
def train_data(tmp_path_factory) -> Path:
    return write_demo_training_sets(tmp_path_factory.mktemp("train"), [BASELINE])[BASELINE]


@pytest.fixture(scope="module")
def baseline_image(engine, train_data):
    require(image_present(TORCH_IMAGE, engine),
            f"needs {TORCH_IMAGE}: build it with `bash infra/sandbox-images/build.sh`")
    return build_baseline(BASELINE, train_data=train_data, client=engine)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The track, its demo files, and its hidden test media unpacked in `clean/` (what a
    model reads at /input)."""
    challenge_slug, track_slug = BASELINE_TRACKS[BASELINE]
    challenge = challenge_by_slug(challenge_slug)
    track = challenge.track(track_slug)
    root = tmp_path_factory.mktemp("demo")
    folder = write_track(root, challenge, track)
    clean = _readable_folder(root / "clean")
    with tarfile.open(folder / CONTAINER_INPUTS_NAME) as archive:
        archive.extractall(clean, filter="data")
    _make_readable(clean)
    return track, folder, clean


def _readable_folder(path: Path) -> Path:
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    return path


def _make_readable(folder: Path) -> None:
    # The model runs as an unprivileged user: its inputs must be readable by anyone.
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _predict(image: str, input_dir: Path, output_dir: Path) -> Path:
    result = run_container(image, input_dir=input_dir, output_dir=output_dir, limits=LIMITS)
    assert result.failure is None, result.logs
    assert result.output_files == ["predictions.csv"]
    assert result.logs == "wrote 200 predictions to /output/predictions.csv\n"
    return output_dir / "predictions.csv"


def _corrupt(engine, clean: Path, output: Path, condition: str) -> None:
    """The corruption command line in the torch image, on the project read-only at /src."""
    engine.containers.run(
        TORCH_IMAGE,
        ["python3", "-m", "sandboxes.corruptions", "apply", "--condition", condition, "--seed", "7",
         "--input", "/clean", "--output", "/corrupted"],
        remove=True, network_disabled=True, network_mode="none", working_dir="/src",
        user=f"{os.getuid()}:{os.getgid()}", environment={"PYTHONPATH": "/src"},
        volumes={str(REPO): {"bind": "/src", "mode": "ro"}, str(clean): {"bind": "/clean", "mode": "ro"},
                 str(output): {"bind": "/corrupted", "mode": "rw"}},
    )
    _make_readable(output)


def test_the_baseline_predicts_every_hidden_test_clip_the_same_twice(baseline_image, demo, run_ids, tmp_path):
    track, folder, clean = demo
    assert (track.accepts_files, track.accepts_containers) == (False, True)

    first = _predict(baseline_image, clean, tmp_path / "first")
    second = _predict(baseline_image, clean, tmp_path / "second")

    assert first.read_bytes() == second.read_bytes()
    predictions = _rows(first)
    assert predictions[0] == ["name", "discrete", "valence"]
    assert [row[0] for row in predictions[1:]] == [row[0] for row in _rows(clean / "test_inputs.csv")[1:]]
    assert {row[1] for row in predictions[1:]} <= EMOTIONS
    assert all(-5.0 <= float(row[2]) <= 5.0 for row in predictions[1:])
    scored = get_scorer(track.scorer_key).score(gold=folder / "reference.csv", pred=first)
    # Chance is a weighted F1 of about 0.2; the demo media carry the emotion in voice and face.
    assert scored.metrics["waf"] > 0.7
    assert scored.score > 0.2


def test_the_baseline_does_worse_on_noisy_blurred_clips(baseline_image, demo, engine, run_ids, tmp_path):
    track, folder, clean = demo
    corrupted = _readable_folder(tmp_path / "corrupted")
    _corrupt(engine, clean, corrupted, "noise:white@-5db+blur:8")
    assert sorted(p.name for p in corrupted.iterdir()) == sorted(p.name for p in clean.iterdir())

    scorer = get_scorer(track.scorer_key)
    reference = folder / "reference.csv"
    clean_score = scorer.score(gold=reference, pred=_predict(baseline_image, clean, tmp_path / "clean"))
    noisy_score = scorer.score(gold=reference, pred=_predict(baseline_image, corrupted, tmp_path / "noisy"))
    assert noisy_score.metrics["waf"] < clean_score.metrics["waf"] - 0.3
    assert noisy_score.score < clean_score.score - 1.0


def test_the_baseline_needs_its_training_data(engine):
    with pytest.raises(SandboxError) as caught:
        build_baseline(BASELINE, client=engine)
    assert caught.value.message == (
        "baseline 'mer-noise-melnet' trains when its image is built: pass its training data "
        "(fixtures.demo.cli.write_training_set writes the demo's)"
    )


def test_the_image_keeps_no_training_data(baseline_image, engine):
    listing = engine.containers.run(baseline_image, entrypoint=["sh", "-c"], remove=True, network_disabled=True,
                                    command=["ls /opt/baseline; test ! -e /train && echo no-train"])
    assert listing.decode().split() == ["features.py", "model.pt", "predict.py", "no-train"]


def test_the_baseline_saves_as_an_uploadable_archive(baseline_image, engine, train_data, tmp_path):
    archive = tmp_path / "baseline.tar"
    assert save_baseline_archive(BASELINE, archive, train_data=train_data, client=engine) == baseline_image
    described = inspect_image_archive(archive, max_bytes=2 * 2**30)
    assert described.image_id == baseline_image
    assert described.repo_tags == (f"demo/baseline-{BASELINE}:latest",)
    # Already on the worker, so it is pinned without being loaded again.
    assert load_image_archive(archive, max_bytes=2 * 2**30, client=engine) == baseline_image
