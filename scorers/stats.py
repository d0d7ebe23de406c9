"""A seeded, vectorised bootstrap confidence interval for a track's primary score.

Resampling n samples with replacement gives every sample a multinomial count; summing those counts
over groups of identical samples (e.g. the cells of a confusion matrix) gives a multinomial over the
groups. A track therefore describes its score as a function of per-group weighted sums, and the
bootstrap draws all resamples' weights at once instead of looping over resamples in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Resampling", "bootstrap_interval", "weighted_sums"]

# Upper bound on resamples x groups held in memory at once (32 MB per float64 array).
_CELLS_PER_BATCH = 1 << 22


@dataclass(frozen=True)
class Resampling:
    """The primary score as a function of resampling weights.

    ``counts[g]`` is how many samples fall in group ``g`` (one group per sample when samples are
    not grouped). ``features`` is a ``(groups, f)`` array or ``None``. ``statistic`` receives, for
    a batch of ``b`` resamples, the ``(b, f)`` weighted feature sums ``weights @ features`` (or the
    ``(b, groups)`` weights themselves when ``features`` is ``None``) and returns ``b`` scores.
    """

    counts: np.ndarray
    features: np.ndarray | None
    statistic: Callable[[np.ndarray], np.ndarray]


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
