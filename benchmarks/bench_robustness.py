"""Wall time of one submission under a 5-condition robustness protocol, and the platform's share of it.

Runs what a sandbox worker runs for a container submission on a protocol phase: the conditions made by
the corruption step (through the host's condition cache), the model run once per condition in the
locked-down sandbox, and each condition's predictions scored with the track's scorer; on the demo's
MER-NOISE test set (200 clips of 2-2.5 s audio and 8-12 frames of 64 x 64) with its baseline model.

    .venv/bin/python benchmarks/bench_robustness.py --runs 3

"Model" is the sum of the model's own run times (from its container's start to its exit); "overhead"
is everything else: making the conditions (cold cache only), creating, watching and removing the
containers, copying the output, scoring. A cold run starts from an empty condition cache; warm runs
reuse it, as every submission after the first does. Medians of `--runs` warm runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

PROTOCOL = {
    "conditions": [
        {"name": "clean", "condition": "clean"},
        {"name": "snr10", "condition": "noise:white@10db"},
        {"name": "snr0", "condition": "noise:white@0db"},
        {"name": "blur4", "condition": "blur:4"},
        {"name": "snr0+blur4", "condition": "noise:white@0db+blur:4"},
    ],
    "seed": 2026, "summary": "mean", "on_failure": "condition",
}


def setup(workdir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.config.settings.local")
    os.environ["ARENA_CONDITION_CACHE_DIR"] = str(workdir / "cache")
    import django

    django.setup()


def one_submission(image: str, clean: Path, digest: str, files: Path, workdir: Path) -> dict[str, float]:
    from arena.challenges.robustness import parse_protocol
    from arena.submissions.services.robust_run import run_protocol
    from arena.submissions.services.robust_scoring import (
        ConditionPredictions,
        score_condition_files,
    )
    from sandboxes import SandboxLimits
    from scorers import get_scorer

    protocol = parse_protocol(PROTOCOL)
    limits = SandboxLimits(wall_seconds=600, memory_mb=2048, cpus=1.0)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        run_dir = Path(tmp)
        run_dir.chmod(0o755)
        started = time.perf_counter()
        outcome = run_protocol(image, protocol=protocol, clean_dir=clean, digest=digest, workdir=run_dir,
                               limits=limits, noise_bank=[], log_cap=64_000)
        assert not outcome.failures, outcome.failures
        paths = {}
        for name, data in outcome.predictions.items():
            paths[name] = run_dir / f"{name}.csv"
            paths[name].write_bytes(data)
        result = score_condition_files(
            scorer=get_scorer("mer.multi"), protocol=protocol, predictions=ConditionPredictions(files=paths),
            golds={"public": files / "reference_public.csv", "private": files / "reference_private.csv"},
            options=None, assets=None, candidates=None)
        total = time.perf_counter() - started
    model = sum(outcome.model_seconds.values())
    scores = {c["name"]: c["score"] for c in result.payloads["public"]["conditions"]}
    return {"total": total, "model": model, "overhead": total - model, **{f"score:{k}": v for k, v in scores.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-robustness-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        setup(workdir)
        from fixtures.demo.cli import write_track
        from fixtures.demo.specs import challenge_by_slug
        from sandboxes.baselines import build_baseline
        from sandboxes.baselines.demo_data import write_demo_training_sets
        from sandboxes.conditions.cache import make_readable

        challenge = challenge_by_slug("mer-style")
        files = write_track(workdir / "demo", challenge, challenge.track("mer-noise"))
        clean = workdir / "clean"
        clean.mkdir()
        with tarfile.open(files / "container-inputs.tar.gz") as archive:
            archive.extractall(clean, filter="data")
        make_readable(clean)
        clean.chmod(0o755)
        (train,) = write_demo_training_sets(workdir / "train", ["mer-noise-melnet"]).values()
        image = build_baseline("mer-noise-melnet", train_data=train)
        clips = len(list(clean.glob("*.wav")))
        digest = f"bench-{time.time_ns()}"  # a fresh cache key: the first run is cold
        cold = one_submission(image, clean, digest, files, workdir)
        warm = [one_submission(image, clean, digest, files, workdir) for _ in range(args.runs)]
    n = len(PROTOCOL["conditions"])
    print(f"{clips} clips, {n} conditions, baseline mer-noise-melnet; warm: median of {args.runs} runs")
    print("| cache | total (s) | model (s) | overhead (s) | overhead per condition (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| cold | {cold['total']:.1f} | {cold['model']:.1f} | {cold['overhead']:.1f} | {cold['overhead'] / n:.2f} |")
    median = {key: statistics.median(run[key] for run in warm) for key in ("total", "model", "overhead")}
    print(f"| warm | {median['total']:.1f} | {median['model']:.1f} | {median['overhead']:.1f} | "
          f"{median['overhead'] / n:.2f} |")
    print("scores (public):", ", ".join(f"{k[6:]}={v:.3f}" for k, v in cold.items() if k.startswith("score:")))


if __name__ == "__main__":
    main()
