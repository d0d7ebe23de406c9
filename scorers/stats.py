"""A seeded, vectorised bootstrap confidence interval for a track's primary score.

Resampling n samples with replacement gives every sample a multinomial count; summing those counts
over groups of identical samples (e.g. the cells of a confusion matrix) gives a multinomial over the
groups. A track therefore describes its score as a function of per-group weighted sums, and the
bootstrap draws all resamples' weights at once instead of looping over resamples in Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Resampling", "board_seed", "bootstrap_interval", "paired_resample_scores", "resample_weights",
           "weighted_sums"]

# Upper bound on resamples x groups held in memory at once (32 MB per float64 array).
_CELLS_PER_BATCH = 1 << 22


@dataclass(frozen=True)
class Resampling:
    """The primary score as a function of resampling weights.

    ``counts[g]`` is how many samples fall in group ``g`` (one group per sample when samples are
    not grouped). ``features`` is a ``(groups, f)`` array or ``None``. ``statistic`` receives, for
    a batch of ``b`` resamples, the ``(b, f)`` weighted feature sums ``weights @ features`` (or the
    ``(b, groups)`` weights themselves when ``features`` is ``None``) and returns ``b`` scores.

    ``sample_groups`` (optional) gives, for each sample in reference row order, the index of its
    group (``-1``: a sample the score leaves out); it is what lets several submissions be resampled
    with the same sample indices (``paired_resample_scores``). ``None`` means one group per sample,
    in reference row order, which only holds when every count is 1.
    """

    counts: np.ndarray
    features: np.ndarray | None
    statistic: Callable[[np.ndarray], np.ndarray]
    sample_groups: np.ndarray | None = None

    def samples(self) -> int:
        """How many reference samples the resampling draws from."""
        return len(self.sample_groups) if self.sample_groups is not None else len(self.counts)


def weighted_sums(weights: np.ndarray, features: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """``weights @ features`` computed over row blocks of ``features`` to bound memory."""
    total = np.zeros((weights.shape[0], features.shape[1]), dtype=np.float64)
    for start in range(0, features.shape[0], block):
        stop = start + block
        total += weights[:, start:stop] @ features[start:stop].astype(np.float64, copy=False)
    return total


def bootstrap_interval(
    resampling: Resampling, *, resamples: int, seed: int, level: float = 0.95
) -> dict[str, float | int]:
    """The percentile bootstrap interval of the score over ``resamples`` resamples.

    Returns ``{"low", "high", "resamples", "seed"}``; the same seed gives the same interval.
    Resamples whose score is undefined (NaN) are left out of the percentiles.
    """
    counts = np.asarray(resampling.counts, dtype=np.int64)
    total = int(counts.sum())
    groups = len(counts)
    rng = np.random.default_rng(seed)
    per_sample = groups > 0 and total == groups and bool(np.all(counts == 1))
    probabilities = counts / total if total else counts.astype(np.float64)
    batch = max(1, _CELLS_PER_BATCH // max(groups, 1))
    scores = []
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        if per_sample:
            # One draw of n sample indices per resample, counted in a single bincount.
            drawn = rng.integers(0, groups, size=(size, groups))
            drawn += (np.arange(size) * groups)[:, None]
            weights = np.bincount(drawn.ravel(), minlength=size * groups).reshape(size, groups)
            weights = weights.astype(np.float64)
        else:
            weights = rng.multinomial(total, probabilities, size=size).astype(np.float64)
        if resampling.features is not None:
            weights = weighted_sums(weights, resampling.features)
        scores.append(np.asarray(resampling.statistic(weights), dtype=np.float64))
    values = np.concatenate(scores) if scores else np.empty(0)
    tail = (1.0 - level) / 2.0 * 100.0
    if values.size == 0 or np.all(np.isnan(values)):
        low = high = float("nan")
    else:
        low, high = (float(x) for x in np.nanpercentile(values, [tail, 100.0 - tail]))
    return {"low": low, "high": high, "resamples": int(resamples), "seed": int(seed)}


def board_seed(phase_id: int, split: str) -> int:
    """The seed every submission of one phase split is resampled with: the first 63 bits of
    ``sha256("board:<phase_id>:<split>")``, so it fits a signed 64-bit column.

    >>> board_seed(1, "public") == board_seed(1, "public") != board_seed(1, "private")
    True
    """
    digest = hashlib.sha256(f"board:{phase_id}:{split}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def resample_weights(rng: np.random.Generator, samples: int, resamples: int) -> np.ndarray:
    """``(resamples, samples)`` float64 counts: row ``r`` says how often each sample is drawn when
    ``samples`` indices are drawn with replacement by ``rng.integers(0, samples, (resamples, samples))``."""
    drawn = rng.integers(0, samples, size=(resamples, samples))
    drawn += (np.arange(resamples) * samples)[:, None]
    counts = np.bincount(drawn.ravel(), minlength=resamples * samples).reshape(resamples, samples)
    return counts.astype(np.float64)


def paired_resample_scores(resampling: Resampling, *, resamples: int, seed: int) -> np.ndarray:
    """The score under each of ``resamples`` resamples of the reference samples: ``(resamples,)``
    float64, NaN where the score is undefined.

    The resamples depend on ``seed`` and the number of samples only, drawn in batches by
    ``resample_weights`` from one ``np.random.default_rng(seed)``; so every submission scored
    against the same reference with the same seed is resampled with the same sample indices, and
    the scores of two submissions can be compared resample by resample (a paired bootstrap).
    """
    samples = resampling.samples()
    groups = resampling.sample_groups
    if groups is None and not np.all(np.asarray(resampling.counts) == 1):
        raise ValueError("a grouped resampling needs sample_groups to be resampled per sample")
    rng = np.random.default_rng(seed)
    batch = max(1, _CELLS_PER_BATCH // max(samples, 1))
    scores = []
    for start in range(0, resamples, batch):
        weights = resample_weights(rng, samples, min(batch, resamples - start))
        if groups is not None:
            weights = _sample_sums(weights, resampling, np.asarray(groups))
        elif resampling.features is not None:
            weights = weighted_sums(weights, resampling.features)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores.append(np.asarray(resampling.statistic(weights), dtype=np.float64))
    return np.concatenate(scores) if scores else np.empty(0)


def _sample_sums(weights: np.ndarray, resampling: Resampling, groups: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """What ``statistic`` takes, from per-sample ``weights``: each sample stands for its group's row of
    ``features`` (of the identity when there are none), expanded one block of samples at a time, so
    one matrix product sums it all."""
    table = resampling.features
    if table is None:
        table = np.eye(len(resampling.counts))
    # A last all-zero row for the samples the score leaves out (group -1).
    table = np.vstack([np.asarray(table, dtype=np.float64), np.zeros((1, table.shape[1]))])
    total = np.zeros((weights.shape[0], table.shape[1]))
    for start in range(0, len(groups), block):
        stop = start + block
        total += weights[:, start:stop] @ table[groups[start:stop]]
    return total
