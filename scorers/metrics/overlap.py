"""Set-overlap metrics for open-vocabulary labels (the MER emotion-wheel overlap).

Each sample has a set of reference labels G and a set of predicted labels P, given as integer
codes in "long" form: parallel arrays of sample indices and label codes (repeats allowed, they
count once). Over the samples whose G is not empty, precision is the mean of |G∩P|/|P| (0 when
P is empty) and recall the mean of |G∩P|/|G|; F is 2PR/(P+R), 0 when P+R is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SetOverlap",
    "set_overlap",
    "set_overlaps",
    "set_overlap_score",
    "mean_overlap_scores",
]


@dataclass(frozen=True)
class SetOverlap:
    """Precision, recall and F of one comparison, with the per-sample values behind them.

    ``sample_precision`` and ``sample_recall`` are NaN for samples whose reference set is empty
    (they are not scored).
    """

    precision: float
    recall: float
    fscore: float
    sample_precision: np.ndarray
    sample_recall: np.ndarray

    @property
    def scored(self) -> np.ndarray:
        """Boolean mask of the samples that count (reference set not empty)."""
        return ~np.isnan(self.sample_recall)


# Above this many (sample, label) cells, sets are compared as sorted keys instead of as dense
# boolean matrices.
_DENSE_CELLS = 1 << 25


def _pair_keys(sample: np.ndarray, label: np.ndarray, width: int) -> np.ndarray:
    return np.unique(np.asarray(sample, dtype=np.int64) * width + np.asarray(label, dtype=np.int64))


def _set_sizes(
    n: int, width: int, gold: tuple[np.ndarray, np.ndarray], pred: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: |G|, |P| and |G∩P|."""
    if n * width <= _DENSE_CELLS:
        gold_cells = np.zeros((n, width), dtype=bool)
        gold_cells[gold] = True
        pred_cells = np.zeros((n, width), dtype=bool)
        pred_cells[pred] = True
        return (np.count_nonzero(gold_cells, axis=1), np.count_nonzero(pred_cells, axis=1),
                np.count_nonzero(gold_cells & pred_cells, axis=1))
    gold_keys = _pair_keys(*gold, width)
    pred_keys = _pair_keys(*pred, width)
    common = np.intersect1d(gold_keys, pred_keys, assume_unique=True)
    return (np.bincount(gold_keys // width, minlength=n),
            np.bincount(pred_keys // width, minlength=n),
            np.bincount(common // width, minlength=n))


def _summarise(gold_size: np.ndarray, pred_size: np.ndarray,
               common_size: np.ndarray) -> SetOverlap:
    scored = gold_size > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred_size > 0, common_size / pred_size, 0.0)
        recall = common_size / gold_size
    precision[~scored] = np.nan
    recall[~scored] = np.nan
    if scored.any():
        mean_precision = np.mean(precision[scored])
        mean_recall = np.mean(recall[scored])
    else:
        mean_precision = mean_recall = np.float64(0.0)
    return SetOverlap(
        precision=float(mean_precision),
        recall=float(mean_recall),
        fscore=float(_fscore(mean_precision, mean_recall)),
        sample_precision=precision,
        sample_recall=recall,
    )


def set_overlap(
    n_samples: int,
    gold_sample: np.ndarray,
    gold_label: np.ndarray,
    pred_sample: np.ndarray,
    pred_label: np.ndarray,
) -> SetOverlap:
    """Compare per-sample label sets given in long form (codes must be >= 0).

    >>> import numpy as np
    >>> # sample 0: G = {0, 1}, P = {1}; sample 1: G = {2}, P = {}; sample 2: G = {}, P = {0}
    >>> r = set_overlap(3, np.array([0, 0, 1]), np.array([0, 1, 2]),
    ...                 np.array([0, 0, 2]), np.array([1, 1, 0]))
    >>> float(r.precision), float(r.recall), round(float(r.fscore), 6)
    (0.5, 0.25, 0.333333)
    """
    width = 1 + int(max(np.max(gold_label, initial=-1), np.max(pred_label, initial=-1), 0))
    return _summarise(*_set_sizes(
        n_samples, width,
        (np.asarray(gold_sample, dtype=np.intp), np.asarray(gold_label, dtype=np.intp)),
        (np.asarray(pred_sample, dtype=np.intp), np.asarray(pred_label, dtype=np.intp)),
    ))


def set_overlaps(
    n_samples: int,
    gold_sample: np.ndarray,
    gold_labels: np.ndarray,
    pred_sample: np.ndarray,
    pred_labels: np.ndarray,
) -> list[SetOverlap]:
    """``set_overlap`` for several label spaces at once (e.g. one per emotion wheel).

    ``gold_labels`` and ``pred_labels`` have one column per label space; a code of -1 means the
    entry has no label in that space. Returns one ``SetOverlap`` per column.

    >>> import numpy as np
    >>> labels = np.array([[0, 5], [1, -1]])  # two entries of sample 0, in two label spaces
    >>> [r.recall for r in set_overlaps(1, np.array([0, 0]), labels, np.array([0]),
    ...                                 np.array([[1, 5]]))]
    [0.5, 1.0]
    """
    gold_labels = np.asarray(gold_labels, dtype=np.intp)
    pred_labels = np.asarray(pred_labels, dtype=np.intp)
    spaces = gold_labels.shape[1]
    widths = 1 + np.maximum(np.maximum(gold_labels.max(axis=0, initial=-1),
                                       pred_labels.max(axis=0, initial=-1)), 0)
    if widths.max(initial=0) <= 64 and _ascending(gold_sample) and _ascending(pred_sample):
        sizes = [np.bitwise_count(masks) for masks in _bit_sets(n_samples, gold_sample, gold_labels,
                                                                 pred_sample, pred_labels)]
        return [_summarise(sizes[0][:, k], sizes[1][:, k], sizes[2][:, k]) for k in range(spaces)]
    total = int(widths.sum())
    if n_samples * total > _DENSE_CELLS:
        return [
            set_overlap(n_samples, gold_sample[gold_labels[:, k] >= 0],
                        gold_labels[gold_labels[:, k] >= 0, k],
                        pred_sample[pred_labels[:, k] >= 0],
                        pred_labels[pred_labels[:, k] >= 0, k])
            for k in range(spaces)
        ]
    # one boolean matrix per side: a row per sample, the label spaces side by side
    starts = np.concatenate(([0], np.cumsum(widths)[:-1]))
    cells = []
    for sample, labels in ((gold_sample, gold_labels), (pred_sample, pred_labels)):
        present = np.zeros(n_samples * total, dtype=bool)
        flat = np.asarray(sample, dtype=np.intp)[:, None] * total + (labels + starts)
        present[flat[labels >= 0]] = True
        cells.append(present.reshape(n_samples, total))
    gold_cells, pred_cells = cells
    sizes = [np.add.reduceat(matrix, starts, axis=1, dtype=np.int64)
             for matrix in (gold_cells, pred_cells, gold_cells & pred_cells)]
    return [_summarise(sizes[0][:, k], sizes[1][:, k], sizes[2][:, k]) for k in range(spaces)]


def _ascending(sample: np.ndarray) -> bool:
    return bool(np.all(sample[1:] >= sample[:-1]))


def _bit_sets(
    n_samples: int,
    gold_sample: np.ndarray,
    gold_labels: np.ndarray,
    pred_sample: np.ndarray,
    pred_labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """G, P and G∩P of every sample in every label space as 64-bit masks (one row per sample,
    one column per space), for codes below 64 and entries sorted by sample."""
    masks = []
    for sample, labels in ((gold_sample, gold_labels), (pred_sample, pred_labels)):
        bits = np.left_shift(np.uint64(1), np.maximum(labels, 0).astype(np.uint64))
        bits[labels < 0] = 0
        out = np.zeros((n_samples, labels.shape[1]), dtype=np.uint64)
        if len(sample):
            first = np.flatnonzero(np.diff(sample, prepend=-1))  # where each sample's entries start
            out[sample[first]] = np.bitwise_or.reduceat(bits, first, axis=0)
        masks.append(out)
    return masks[0], masks[1], masks[0] & masks[1]


def _fscore(precision: float, recall: float) -> float:
    if precision + recall == 0:
        return 0.0
    return 2 * (precision * recall) / (precision + recall)


def set_overlap_score(
    n_samples: int,
    gold_sample: np.ndarray,
    gold_label: np.ndarray,
    pred_sample: np.ndarray,
    pred_label: np.ndarray,
) -> float:
    """The F score of ``set_overlap`` (higher is better).

    >>> import numpy as np
    >>> set_overlap_score(1, np.array([0, 0]), np.array([3, 4]), np.array([0]), np.array([3]))
    0.6666666666666666
    """
    return set_overlap(n_samples, gold_sample, gold_label, pred_sample, pred_label).fscore


def mean_overlap_scores(overlaps: Sequence[SetOverlap]) -> tuple[float, float, float]:
    """``(fscore, precision, recall)``, each the mean over several comparisons (e.g. the five
    emotion wheels), as the MER organisers average them.

    >>> a = SetOverlap(0.5, 1.0, 2 / 3, None, None)
    >>> b = SetOverlap(1.0, 1.0, 1.0, None, None)
    >>> tuple(round(x, 6) for x in mean_overlap_scores([a, b]))
    (0.833333, 0.75, 1.0)
    """
    rows = np.array([[o.fscore, o.precision, o.recall] for o in overlaps], dtype=np.float64)
    fscore, precision, recall = np.mean(rows, axis=0).tolist()
    return fscore, precision, recall
