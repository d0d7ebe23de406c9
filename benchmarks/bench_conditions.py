"""Wall time of one `prepare_condition` on the sandbox host: cold (one corruption container) and
a cache hit.

Run from the repository root, with the corruption image built (infra/sandbox-images/build.sh):

    .venv/bin/python benchmarks/bench_conditions.py --clips 200 --runs 3

The clean set is `--clips` clips of 2 s of 16 kHz audio and 10 grayscale frames of 64 x 64 (PNG).
Each cold run uses a fresh cache root, so it starts a container, imports torch, reads, corrupts
and writes every clip, and renames the entry into place; the hit reuses the last entry. The
median of `--runs` runs is reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandboxes.conditions import ConditionCache, prepare_condition  # noqa: E402
from tests.sandboxes.test_conditions import write_clean_set  # noqa: E402

CONDITIONS = ("noise:white@5db", "blur:4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-conditions-") as workdir:
        root = Path(workdir)
        clean = write_clean_set(root / "clean", clips=args.clips, seconds=2.0, frames=10, side=64)
        print(f"{args.clips} clips of 2 s audio + 10 frames 64x64; median of {args.runs} runs")
        print("| condition | cold (s) | cache hit (ms) |\n| --- | ---: | ---: |")
        for spec in CONDITIONS:
            cold, hit = [], []
            for run in range(args.runs):
                cache = ConditionCache(root / f"cache-{spec}-{run}", max_bytes=2**32)
                started = time.perf_counter()
                with prepare_condition(clean, inputs_digest="bench", condition=spec, seed=7, cache=cache):
                    cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                with prepare_condition(clean, inputs_digest="bench", condition=spec, seed=7, cache=cache):
                    hit.append(time.perf_counter() - started)
            print(f"| {spec} | {statistics.median(cold):.2f} | {1000 * statistics.median(hit):.2f} |")


if __name__ == "__main__":
    main()
