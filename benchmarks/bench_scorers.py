"""Benchmark the track scorers against a reference path, side by side in one run.

Run by hand from the repository root:

    .venv/bin/python benchmarks/bench_scorers.py [--runs 5] [--only abaw.va,abaw.au]

For every case in ``BENCHMARKS`` the script writes realistic files into a temporary folder, then
times our path (``get_scorer(key).score`` on the file paths: read, parse, validate, align, score)
and a reference path (pandas.read_csv + merge + scikit-learn or the organisers' formula). It
reports the median of ``--runs`` runs of each, their ratio, whether both give the same score, and
the peak resident memory of one run of each path in a fresh process. Our path is timed twice:
"cold" parses both files every run; "warm" finds the parsed reference in the per-process cache,
as a worker scoring a stream of submissions against one reference does. Runs take turns (ours
cold, ours warm, reference, again).

To benchmark another track, add a ``Benchmark`` to ``BENCHMARKS`` (see the existing entries).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.bench_ov_wheel import make_ov_wheel, reference_ov_wheel, wheel_folder  # noqa: E402
from scorers import get_scorer  # noqa: E402
from scorers.cache import gold_cache  # noqa: E402

AUS = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26")
EMOTIONS = ("neutral", "angry", "happy", "sad", "worried", "surprise")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark case.

    ``make`` writes the files into a folder and returns ``(gold, pred)`` paths; ``reference``
    scores them the way an organiser's script would. ``options`` and ``assets`` go to our scorer.
    """

    key: str
    size: str
    make: Callable[[Path], tuple[Path, Path]]
    reference: Callable[[Path, Path], float]
    options: dict[str, str] = field(default_factory=dict)
    assets: Path | None = None


# -- data -------------------------------------------------------------------------------------


def _frame_names(rng: np.random.Generator, n: int) -> list[str]:
    videos = rng.integers(1, 600, n)
    return [f"{v}-{v % 97}-1456x{500 + v % 400}_{v % 3}/{i:06d}.jpg" for i, v in enumerate(videos)]


def _write(path: Path, header: str | None, keys: list[str], rows: list[str], order: np.ndarray) -> None:
    with path.open("w", encoding="utf-8") as handle:
        if header is not None:
            handle.write(header + "\n")
        handle.writelines(f"{keys[i]},{rows[i]}\n" for i in order)


def make_va(folder: Path, n: int = 1_000_000) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    keys = _frame_names(rng, n)
    gold = np.round(rng.uniform(-1, 1, (n, 2)), 4)
    pred = np.round(np.clip(0.7 * gold + rng.normal(0, 0.3, (n, 2)), -1, 1), 6)
    gold[rng.random(n) < 0.05, 0] = -5
    gold[rng.random(n) < 0.05, 1] = -5
    header = "image_location,valence,arousal"
    _write(folder / "gold.csv", header, keys, [f"{a},{b}" for a, b in gold.tolist()], np.arange(n))
    _write(folder / "pred.csv", header, keys, [f"{a},{b}" for a, b in pred.tolist()], rng.permutation(n))
    return folder / "gold.csv", folder / "pred.csv"


def make_au(folder: Path, n: int = 1_000_000) -> tuple[Path, Path]:
    rng = np.random.default_rng(2)
    keys = _frame_names(rng, n)
    gold = (rng.random((n, 12)) < 0.3).astype(int)
    pred = np.where(rng.random((n, 12)) < 0.8, gold, 1 - gold)
    gold[rng.random(n) < 0.03] = -1
    header = "image_location," + ",".join(AUS)
    _write(folder / "gold.csv", header, keys, [",".join(map(str, r)) for r in gold.tolist()], np.arange(n))
    _write(folder / "pred.csv", header, keys, [",".join(map(str, r)) for r in pred.tolist()], rng.permutation(n))
    return folder / "gold.csv", folder / "pred.csv"


def make_discrete(folder: Path, candidates: int = 20_000, tested: int = 2_000) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    keys = [f"sample_{i:08d}" for i in range(candidates)]
    truth = rng.integers(0, len(EMOTIONS), candidates)
    guess = np.where(rng.random(candidates) < 0.6, truth, rng.integers(0, 6, candidates))
    test = rng.choice(candidates, tested, replace=False)
    header = "name,discrete"
    _write(folder / "gold.csv", header, keys, [EMOTIONS[i] for i in truth], np.sort(test))
    _write(folder / "pred.csv", header, keys, [EMOTIONS[i] for i in guess], rng.permutation(candidates))
    return folder / "gold.csv", folder / "pred.csv"


# -- reference paths --------------------------------------------------------------------------


def _organisers_ccc(x: np.ndarray, y: np.ndarray) -> float:
    rho = np.corrcoef(x, y)[0][1]
    x_s, y_s = np.std(x), np.std(y)
    return 2 * rho * x_s * y_s / (x_s**2 + y_s**2 + (np.mean(x) - np.mean(y)) ** 2)


def reference_va(gold: Path, pred: Path) -> float:
    import pandas as pd

    merged = pd.read_csv(gold).merge(pd.read_csv(pred), on="image_location", suffixes=("_g", "_p"))
    scores = []
    for dim in ("valence", "arousal"):
        kept = merged[merged[f"{dim}_g"] != -5]
        scores.append(_organisers_ccc(kept[f"{dim}_g"].to_numpy(), kept[f"{dim}_p"].to_numpy()))
    return float(np.mean(scores))


def reference_au(gold: Path, pred: Path) -> float:
    import pandas as pd
    from sklearn.metrics import f1_score

    merged = pd.read_csv(gold).merge(pd.read_csv(pred), on="image_location", suffixes=("_g", "_p"))
    scores = []
    for au in AUS:
        kept = merged[merged[f"{au}_g"] != -1]
        scores.append(f1_score(kept[f"{au}_g"], kept[f"{au}_p"], zero_division=0))
    return float(np.mean(scores))


def reference_discrete(gold: Path, pred: Path) -> float:
    import pandas as pd
    from sklearn.metrics import f1_score

    merged = pd.read_csv(gold).merge(pd.read_csv(pred), on="name", how="left", suffixes=("_g", "_p"))
    return float(f1_score(merged["discrete_g"], merged["discrete_p"], average="weighted"))


BENCHMARKS: dict[str, Benchmark] = {
    "abaw.va": Benchmark("abaw.va", "1,000,000 frames", make_va, reference_va),
    "abaw.au": Benchmark("abaw.au", "1,000,000 frames", make_au, reference_au),
    "mer.discrete": Benchmark("mer.discrete", "20,000 candidates (2,000 scored)", make_discrete, reference_discrete),
    "mer.ov-wheel": Benchmark(
        "mer.ov-wheel",
        f"20,000 samples ({wheel_folder().name} wheels)",
        make_ov_wheel,
        reference_ov_wheel,
        assets=wheel_folder(),
    ),
}


# -- measurement ------------------------------------------------------------------------------


def ours(bench: Benchmark, gold: Path, pred: Path) -> float:
    return get_scorer(bench.key).score(gold=gold, pred=pred, options=bench.options, assets=bench.assets).score


def ours_cold(bench: Benchmark, gold: Path, pred: Path) -> float:
    gold_cache.clear()
    return ours(bench, gold, pred)


@dataclass(frozen=True)
class Timing:
    """Medians over the runs: wall-clock and CPU seconds (CPU time is less sensitive to other
    processes on a shared machine)."""

    wall: float
    cpu: float
    value: float


def timed_together(functions: dict[str, Callable[[], float]], runs: int) -> dict[str, Timing]:
    """Each function's timing, the functions taking turns run after run (ours cold, ours warm,
    reference, then again), so that all of them meet the same spells of load on a shared
    machine; each runs once first to warm the file cache and lazy imports."""
    for function in functions.values():
        function()
    walls: dict[str, list[float]] = {name: [] for name in functions}
    cpus: dict[str, list[float]] = {name: [] for name in functions}
    values: dict[str, float] = {}
    for _ in range(runs):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            values[name] = function()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    return {name: Timing(statistics.median(walls[name]), statistics.median(cpus[name]), values[name])
            for name in functions}


def _peak_of_one_run(key: str, path: str, gold: str, pred: str) -> int:
    bench = BENCHMARKS[key]
    if path == "ours":
        ours(bench, Path(gold), Path(pred))
    else:
        bench.reference(Path(gold), Path(pred))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


class PeakMemory:
    """Runs one scoring per fresh process, forked from a small fork server started before this
    process holds any data (a forked child's peak RSS starts at its parent's RSS)."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([])
        self.measure("", "", "", "")  # starts the fork server while this process is small

    def measure(self, key: str, path: str, gold: str, pred: str) -> float:
        with self._context.Pool(1, maxtasksperchild=1) as pool:
            if not key:
                return pool.apply(resource.getpagesize) and 0.0
            return pool.apply(_peak_of_one_run, (key, path, gold, pred)) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated benchmark keys")
    args = parser.parse_args()
    memory = PeakMemory()
    chosen = [key for key in BENCHMARKS if not args.only or key in args.only.split(",")]
    print(
        f"median of {args.runs} interleaved runs, wall-clock seconds (CPU seconds in brackets); "
        "peak RSS of one run in a fresh process\n"
    )
    print(
        f"{'track':<14}{'size':<34}{'ours cold':>16}{'ours warm':>16}{'reference':>16}"
        f"{'cold x':>8}{'warm x':>8}{'MB':>6}{'ref MB':>8}  same score"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for key in chosen:
            bench = BENCHMARKS[key]
            folder = Path(tmp) / key
            folder.mkdir()
            gold, pred = bench.make(folder)
            timings = timed_together({"cold": partial(ours_cold, bench, gold, pred),
                                      "warm": partial(ours, bench, gold, pred),
                                      "reference": partial(bench.reference, gold, pred)}, args.runs)
            cold, warm, ref = timings["cold"], timings["warm"], timings["reference"]
            our_mb = memory.measure(key, "ours", str(gold), str(pred))
            ref_mb = memory.measure(key, "reference", str(gold), str(pred))
            same = abs(cold.value - ref.value) <= 1e-9 * max(1.0, abs(ref.value))
            cells = "".join(f"{t.wall:>8.3f} ({t.cpu:.3f})".rjust(16) for t in (cold, warm, ref))
            print(
                f"{key:<14}{bench.size:<34}{cells}{ref.wall / cold.wall:>7.1f}x"
                f"{ref.wall / warm.wall:>7.1f}x{our_mb:>6.0f}{ref_mb:>8.0f}  "
                f"{'yes' if same else f'NO ({cold.value!r} vs {ref.value!r})'}"
            )


if __name__ == "__main__":
    main()
