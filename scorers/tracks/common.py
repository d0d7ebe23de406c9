"""Pieces shared by the track modules: breakdowns and bootstrap descriptions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from scorers.errors import SubmissionFormatError
from scorers.metrics import per_class_f1
from scorers.stats import Resampling

__all__ = ["classification_breakdown", "confusion_resampling", "require_rows"]


def classification_breakdown(confusion: np.ndarray, labels: Sequence[str]) -> dict[str, object]:
    """Confusion matrix (rows: reference, columns: prediction), per-class F1 and support."""
    f1 = per_class_f1(confusion)
    return {
        "labels": list(labels),
        "confusion_matrix": np.asarray(confusion).astype(np.int64).tolist(),
        "per_class_f1": {label: float(value) for label, value in zip(labels, f1, strict=True)},
        "support": {label: int(value) for label, value in zip(labels, confusion.sum(axis=1), strict=True)},
    }


def confusion_resampling(
    confusion: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], cells: np.ndarray | None = None
) -> Resampling:
    """Bootstrap over the cells of a ``(K, K)`` confusion matrix; ``statistic`` maps a batch of
    ``(b, K, K)`` resampled matrices to ``b`` scores. ``cells``: each reference sample's cell
    ``true * K + predicted`` (-1: left out), for resampling per sample."""
    k = confusion.shape[0]
    return Resampling(
        counts=np.asarray(confusion, dtype=np.int64).ravel(),
        features=None,
        statistic=lambda weights: statistic(weights.reshape(-1, k, k)),
        sample_groups=None if cells is None else np.asarray(cells, dtype=np.int64),
    )


def require_rows(count: int, *, what: str) -> None:
    """Raise a gold-file error when a score would be computed over no rows."""
    if count == 0:
        raise SubmissionFormatError(f"the file has no {what}; nothing can be scored", file="gold")
