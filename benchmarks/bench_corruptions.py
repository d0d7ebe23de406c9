"""Clips per second of each corruption on one CPU core, in the torch image.

Run by hand from the repository root (the image has torch; the host venv does not). The image
gets only the corruptions package, under an empty `sandboxes` package:

    S=$(mktemp -d) && mkdir -p $S/sandboxes $S/benchmarks && touch $S/sandboxes/__init__.py \\
      && cp -r sandboxes/corruptions $S/sandboxes/ && cp benchmarks/bench_corruptions.py $S/benchmarks/ \\
      && docker run --rm --network none --cpus 1 -v $S:/src:ro -w /src arena/sandbox-torch:latest \\
           python3 benchmarks/bench_corruptions.py --runs 7

A clip is 3 s of 16 kHz audio and 16 RGB frames of 64 x 64. Each run corrupts `--clips`
different clips with `apply_condition` (tensors in memory: no file I/O) and reports clips per
second; the table gives the median of `--runs` runs, after one warm-up run. The conditions take
turns within each run, so that all meet the same spells of load. The "folder" rows time
`apply_folder` on the same clips written as WAV and PNG files (read, corrupt, write).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandboxes.corruptions import parse_condition  # noqa: E402
from sandboxes.corruptions.apply import apply_condition, apply_folder  # noqa: E402
from sandboxes.corruptions.io import write_png, write_wav  # noqa: E402

CONDITIONS = (
    "noise:white@5db", "noise:pink@5db", "noise:babble@5db", "mute",
    "blur:2", "blur:4", "gauss:1.5", "jpeg:50", "occlude:0.25", "drop:0.3", "blank",
    "noise:white@5db+blur:2",
)
FOLDER_CONDITIONS = ("clean", "noise:white@5db+blur:2")


def make_clips(count: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(0)
    clips = {}
    for index in range(count):
        samples = (0.1 * rng.standard_normal(48_000)).astype(np.float32)
        frames = rng.integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
        clips[f"clip{index:03d}"] = (torch.from_numpy(samples), torch.from_numpy(frames))
    return clips


def time_condition(spec: str, clips, audio_by_key) -> float:
    condition = parse_condition(spec)
    start = time.perf_counter()
    for key, (samples, frames) in clips.items():
        apply_condition(condition, key=key, seed=1, audio_samples=samples, frames=frames, clips=audio_by_key)
    return len(clips) / (time.perf_counter() - start)


def time_folder(spec: str, folder: Path, scratch: Path, run: int) -> float:
    condition = parse_condition(spec)
    output = scratch / f"{spec.replace(':', '_').replace('@', '_').replace('+', '_')}-{run}"
    start = time.perf_counter()
    count = apply_folder(condition, seed=1, input_dir=folder, output_dir=output)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = make_clips(args.clips)
    audio_by_key = {key: samples for key, (samples, _) in clips.items()}
    rates: dict[str, list[float]] = {spec: [] for spec in CONDITIONS}
    rates.update({f"folder, {spec}": [] for spec in FOLDER_CONDITIONS})
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        folder = scratch / "clean"
        folder.mkdir()
        for key, (samples, frames) in clips.items():
            write_wav(folder / f"{key}.wav", samples.numpy())
            (folder / key).mkdir()
            for number, frame in enumerate(frames.numpy()):
                write_png(folder / key / f"{number:04d}.png", frame)
        for run in range(args.runs + 1):
            for spec in CONDITIONS:
                rate = time_condition(spec, clips, audio_by_key)
                if run:
                    rates[spec].append(rate)
            for spec in FOLDER_CONDITIONS:
                rate = time_folder(spec, folder, scratch, run)
                if run:
                    rates[f"folder, {spec}"].append(rate)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, {args.clips} clips, "
          f"median of {args.runs} runs (min-max)")
    print(f"| {'condition':<30} | {'clips/s':>8} | {'ms/clip':>8} | {'range clips/s':>15} |")
    print(f"|{'-' * 32}|{'-' * 9}:|{'-' * 9}:|{'-' * 16}:|")
    for name, values in rates.items():
        median = statistics.median(values)
        spread = f"{min(values):.0f}-{max(values):.0f}"
        print(f"| {name:<30} | {median:>8.0f} | {1000 / median:>8.2f} | {spread:>15} |")


if __name__ == "__main__":
    main()
