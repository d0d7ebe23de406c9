"""Benchmark the sandbox: the overhead of one run, and the torch baseline end to end.

Run by hand from the repository root, with the engine up and the images built
(`bash infra/ci/start-docker.sh && bash infra/sandbox-images/build.sh`):

    .venv/bin/python benchmarks/bench_sandbox.py [--runs 30] [--baseline-runs 3] [--markdown FILE]

Overhead: `run_container` around a model that does nothing (`true` in the base image), all
included: keeper and model containers created and started, the wait, logs, the copy of /output,
both containers and the volume removed. The baseline: `arena/baseline-mer-noise-melnet` on the
MER-NOISE demo track's hidden test media (200 clips: a WAV and face frames each), then scored
with `scorers`.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fixtures.demo.cli import CONTAINER_INPUTS_NAME, write_track  # noqa: E402
from fixtures.demo.specs import challenge_by_slug  # noqa: E402
from sandboxes import SandboxLimits, run_container  # noqa: E402
from sandboxes.baselines import BASELINE_TRACKS, build_baseline  # noqa: E402
from sandboxes.baselines.demo_data import write_demo_training_sets  # noqa: E402
from sandboxes.engine import docker_client  # noqa: E402
from scorers import get_scorer  # noqa: E402

BASE_IMAGE = "arena/sandbox-base:latest"
BASELINE = "mer-noise-melnet"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _input_dir(root: Path) -> Path:
    folder = root / "input"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    return folder


def bench_overhead(runs: int) -> dict[str, float]:
    limits = SandboxLimits(wall_seconds=30, memory_mb=128, cpus=1.0)
    client = docker_client()
    totals: list[float] = []
    inside: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = _input_dir(Path(tmp))
        for i in range(runs + 1):
            output = Path(tmp) / f"out{i}"
            started = time.perf_counter()
            result = run_container(BASE_IMAGE, input_dir=inputs, output_dir=output,
                                   limits=limits, client=client, command=["true"])
            elapsed = time.perf_counter() - started
            assert result.exit_code == 0, result
            if i:  # the first run warms the engine's caches
                totals.append(elapsed)
                inside.append(result.duration_s)
    return {
        "median": statistics.median(totals),
        "p95": percentile(totals, 95),
        "min": min(totals),
        "max": max(totals),
        "inside_median": statistics.median(inside),
    }


def bench_baseline(runs: int) -> dict[str, float]:
    client = docker_client()
    with tempfile.TemporaryDirectory() as tmp:
        train_data = write_demo_training_sets(Path(tmp), [BASELINE]).get(BASELINE)
        image_id = build_baseline(BASELINE, train_data=train_data, client=client)
    challenge_slug, track_slug = BASELINE_TRACKS[BASELINE]
    challenge = challenge_by_slug(challenge_slug)
    track = challenge.track(track_slug)
    limits = SandboxLimits(wall_seconds=300, memory_mb=1024, cpus=1.0)
    run_times: list[float] = []
    model_times: list[float] = []
    score_times: list[float] = []
    score = float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        demo = write_track(Path(tmp) / "demo", challenge, track)
        inputs = _input_dir(Path(tmp))
        with tarfile.open(demo / CONTAINER_INPUTS_NAME) as archive:
            archive.extractall(inputs, filter="data")
        for path in inputs.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        for i in range(runs):
            output = Path(tmp) / f"out{i}"
            started = time.perf_counter()
            result = run_container(image_id, input_dir=inputs, output_dir=output,
                                   limits=limits, client=client)
            run_times.append(time.perf_counter() - started)
            model_times.append(result.duration_s)
            assert result.failure is None, result
            started = time.perf_counter()
            scored = get_scorer(track.scorer_key).score(
                gold=demo / "reference.csv", pred=output / "predictions.csv"
            )
            score_times.append(time.perf_counter() - started)
            score = scored.score
    return {
        "run_median": statistics.median(run_times),
        "model_median": statistics.median(model_times),
        "score_median": statistics.median(score_times),
        "end_to_end_median": statistics.median(
            [r + s for r, s in zip(run_times, score_times, strict=True)]
        ),
        "score": score,
    }


def report(overhead: dict[str, float], baseline: dict[str, float], runs: int, b_runs: int) -> str:
    engine = docker_client().version()
    return "\n".join(
        [
            "| Measure | Value |",
            "|---|---|",
            f"| Sandbox overhead, median of {runs} runs | {overhead['median']:.3f} s |",
            f"| Sandbox overhead, p95 | {overhead['p95']:.3f} s |",
            f"| Sandbox overhead, min / max | {overhead['min']:.3f} / {overhead['max']:.3f} s |",
            f"| of which the model process (`true`), median | {overhead['inside_median']:.3f} s |",
            f"| Baseline run (`run_container`), median of {b_runs} | "
            f"{baseline['run_median']:.2f} s |",
            f"| of which the model process, median | {baseline['model_median']:.2f} s |",
            f"| Scoring its predictions, median | {baseline['score_median'] * 1000:.0f} ms |",
            f"| Baseline end to end (run + score), median | "
            f"{baseline['end_to_end_median']:.2f} s |",
            f"| Baseline score on MER-NOISE (mer.multi combined) | {baseline['score']:.4f} |",
            "",
            f"Engine: Docker {engine.get('Version')} (API {engine.get('ApiVersion')}), "
            f"{platform.machine()}, {shutil.os.cpu_count()} CPUs.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="overhead runs (default 30)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="baseline runs (default 3)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    overhead = bench_overhead(args.runs)
    baseline = bench_baseline(args.baseline_runs)
    table = report(overhead, baseline, args.runs, args.baseline_runs)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
