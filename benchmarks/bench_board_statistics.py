"""Benchmark the board statistics after one new score: 1,000 teams, 2,000 test samples, 1,000 resamples.

Run by hand from the repository root (one core: the thread variables are set before numpy loads):

    .venv/bin/python benchmarks/bench_board_statistics.py [--runs 7] [--teams 1000] [--samples 2000]

The other teams' records (their scores under the board's resamples, ``scorers.stats.paired_resample_scores``)
were stored when each was scored; what one new score costs is timed in three steps:

1. **score**: ``get_scorer("mer.discrete").score_splits(..., with_resampling=True)`` on the new
   prediction (in memory: parse, validate, align, score, and the per-sample resampling parts);
2. **record**: its scores under the board's 1,000 resamples (draw the (R x N) weights, group them,
   weighted F1 of every resampled confusion matrix);
3. **board**: ``arena.leaderboards.statistics.board_statistics`` over the 1,000 stored records (read
   from their stored bytes): intervals, paired p-values, tie groups and rank ranges of every team.

Beside it, the simplest competent path without stored records: recompute every team's resampled
scores from its per-sample contributions, as one matrix product of the (R x N) weights with every
team's sufficient statistics (per class: true positives and predicted count; the support is shared).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "platform"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from arena.leaderboards.statistics import BoardRow, board_statistics  # noqa: E402
from scorers import get_scorer  # noqa: E402
from scorers.metrics import weighted_f1_from_confusion  # noqa: E402
from scorers.stats import board_seed, paired_resample_scores, resample_weights  # noqa: E402
from scorers.tracks.mer import MER_EMOTIONS  # noqa: E402

K = len(MER_EMOTIONS)


def _csv(keys: list[str], labels: np.ndarray) -> bytes:
    rows = "".join(f"{key},{MER_EMOTIONS[label]}\n" for key, label in zip(keys, labels, strict=True))
    return ("name,discrete\n" + rows).encode()


def _predictions(rng, gold: np.ndarray, teams: int) -> np.ndarray:
    """(teams, N) labels: team t is right with probability between 0.35 and 0.85."""
    accuracy = np.linspace(0.35, 0.85, teams)[:, None]
    wrong = rng.random((teams, len(gold))) > accuracy
    return np.where(wrong, (gold + rng.integers(1, K, (teams, len(gold)))) % K, gold)


def _median(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--baseline-runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, teams, resamples = args.samples, args.teams, args.resamples
    keys = [f"s{i:05d}" for i in range(n)]
    gold = rng.integers(0, K, n)
    preds = _predictions(rng, gold, teams)
    scorer = get_scorer("mer.discrete")
    golds = {"public": _csv(keys, gold)}
    seed = board_seed(1, "public")

    # The stored records of the other teams (computed when each was scored; not timed).
    started = time.perf_counter()
    stored = []
    for t in range(teams - 1):
        parts = scorer.score_splits(golds=golds, pred=_csv(keys, preds[t]), with_resampling=True)["public"]
        stored.append((parts.score, paired_resample_scores(parts.resampling, resamples=resamples, seed=seed)
                       .astype("<f8").tobytes()))
    print(f"setup: {teams - 1} stored records in {time.perf_counter() - started:.1f} s "
          f"({len(stored[0][1])} bytes each)")

    new_pred = _csv(keys, preds[-1])
    score_t, record_t, board_t, total_t = [], [], [], []
    for _ in range(args.runs + 1):
        t0 = time.perf_counter()
        result = scorer.score_splits(golds=golds, pred=new_pred, with_resampling=True)["public"]
        t1 = time.perf_counter()
        record = paired_resample_scores(result.resampling, resamples=resamples, seed=seed).astype("<f8").tobytes()
        t2 = time.perf_counter()
        entries = sorted([*stored, (result.score, record)], key=lambda e: -e[0])
        rows = [BoardRow(score, False, np.frombuffer(data, dtype="<f8")) for score, data in entries]
        stats = board_statistics(rows, greater_is_better=True, alpha=0.05)
        t3 = time.perf_counter()
        score_t.append(t1 - t0)
        record_t.append(t2 - t1)
        board_t.append(t3 - t2)
        total_t.append(t3 - t0)
    # The first run warms the reference cache and numpy; it is left out.
    score_t, record_t, board_t, total_t = score_t[1:], record_t[1:], board_t[1:], total_t[1:]
    groups = max(s["tie_group"] for s in stats)
    print(f"{teams} teams, {n} samples, {resamples} resamples, median of {args.runs} runs, one core")
    print(f"  score the new submission      {_median(score_t)}")
    print(f"  its record (R resamples)      {_median(record_t)}")
    print(f"  board statistics, all teams   {_median(board_t)}")
    print(f"  total after one new score     {_median(total_t)}   (max {max(total_t) * 1000:.1f} ms)")
    print(f"  board: {groups} tie groups; widest rank range "
          f"{max(s['rank_range'][1] - s['rank_range'][0] for s in stats) + 1} ranks")

    # The strawman without stored records: every team's resampled scores from its sufficient statistics.
    support = np.eye(K)[gold]  # (N, K): the shared true-class counts
    features = np.concatenate([np.eye(K)[preds] * (preds == gold)[..., None], np.eye(K)[preds]], axis=2)
    features = features.transpose(1, 0, 2).reshape(n, teams * 2 * K)  # (N, teams * 2K)
    recompute_t = []
    for _ in range(args.baseline_runs):
        t0 = time.perf_counter()
        weights = resample_weights(np.random.default_rng(seed), n, resamples)
        sums = (weights @ features).reshape(resamples, teams, 2, K)
        truth = weights @ support  # (R, K)
        tp, guessed = sums[:, :, 0], sums[:, :, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(truth[:, None] + guessed > 0, 2 * tp / (truth[:, None] + guessed), 0.0)
        scores = (f1 * truth[:, None]).sum(axis=-1) / truth.sum(axis=-1)[:, None]
        recompute_t.append(time.perf_counter() - t0)
    check = weighted_f1_from_confusion(np.bincount(gold * K + preds[-1], minlength=K * K).reshape(K, K))
    assert abs(float(check) - result.score) < 1e-12
    print(f"  strawman: recompute all teams' resampled scores  {_median(recompute_t)} "
          f"(median of {args.baseline_runs}; {scores.shape} scores)")


if __name__ == "__main__":
    main()
