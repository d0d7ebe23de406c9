"""Classification metrics on integer class codes, vectorised through confusion matrices.

Class codes are integers ``0 .. n_classes - 1``. Every F1 here follows the convention of the
organisers' scikit-learn calls with ``zero_division=0``: a class with no true and no predicted
sample has F1 = 0.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "confusion_matrix",
    "per_class_f1",
    "weighted_f1_from_confusion",
    "macro_f1_from_confusion",
    "weighted_f1_score",
    "macro_f1_score",
    "binary_f1_score",
    "accuracy_score",
    "average_precision_score",
]


def confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(n_classes, n_classes)`` matrix of counts; rows are true classes, columns predicted.

    Integer counts without ``sample_weight``, float sums of weights with it.

    >>> confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    cells = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    counts = np.bincount(cells, weights=sample_weight, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def per_class_f1(confusion: np.ndarray) -> np.ndarray:
    """F1 of every class from a confusion matrix, batched over leading axes (``(..., K, K)``).

    F1 = 2 TP / (2 TP + FP + FN), and 0 for a class absent from both sides.

    >>> per_class_f1(np.array([[2, 1], [0, 1]])).round(4).tolist()
    [0.8, 0.6667]
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    true_totals = confusion.sum(axis=-1)
    pred_totals = confusion.sum(axis=-2)
    denominator = true_totals + pred_totals
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2.0 * tp / denominator, 0.0)
    return f1


def weighted_f1_from_confusion(confusion: np.ndarray) -> np.ndarray | float:
    """Support-weighted mean of the per-class F1 (batched over leading axes).

    >>> float(weighted_f1_from_confusion(np.array([[2, 1], [0, 1]])))
    0.7666666666666667
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    support = confusion.sum(axis=-1)
    total = support.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (per_class_f1(confusion) * support).sum(axis=-1) / total
    return np.where(total > 0, result, 0.0)


def macro_f1_from_confusion(confusion: np.ndarray) -> np.ndarray | float:
    """Unweighted mean of the per-class F1 over every class of the matrix (batched).

    >>> round(float(macro_f1_from_confusion(np.array([[2, 1], [0, 1]]))), 6)
    0.733333
    """
    return per_class_f1(confusion).mean(axis=-1)


def weighted_f1_score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Support-weighted F1 (scikit-learn's ``average="weighted"``); higher is better.

    >>> weighted_f1_score(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]), 2)
    0.7666666666666667
    """
    return float(weighted_f1_from_confusion(confusion_matrix(y_true, y_pred, n_classes)))


def macro_f1_score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean F1 over the fixed label set ``0 .. n_classes - 1``; a class absent from both sides
    counts 0 (scikit-learn's ``average="macro", labels=range(n_classes), zero_division=0``).

    >>> macro_f1_score(np.array([0, 0, 1]), np.array([0, 1, 1]), 3)
    0.4444444444444444
    """
    return float(macro_f1_from_confusion(confusion_matrix(y_true, y_pred, n_classes)))


def binary_f1_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of the positive class 1 of 0/1 arrays; 0 when neither side has a positive.

    >>> binary_f1_score(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    0.5
    """
    truth = np.asarray(y_true) == 1
    guess = np.asarray(y_pred) == 1
    tp = np.count_nonzero(truth & guess)
    denominator = np.count_nonzero(truth) + np.count_nonzero(guess)
    return float(2.0 * tp / denominator) if denominator else 0.0


def accuracy_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of samples whose prediction equals the truth.

    >>> accuracy_score(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]))
    0.75
    """
    y_true = np.asarray(y_true)
    return float(np.count_nonzero(y_true == np.asarray(y_pred)) / y_true.shape[0])


def average_precision_score(y_true: np.ndarray, scores: np.ndarray, thresholds: np.ndarray | None = None) -> float:
    """Average precision of class 1 as the A/H organisers compute it.

    Precision and recall are taken at every threshold of ``thresholds`` (default
    ``np.arange(0, 1, 0.001)``, predicting 1 where ``score >= threshold``; precision is 0 where
    nothing is predicted) and the area under the precision-recall curve is integrated with the
    trapezoidal rule. Returns 0 when ``y_true`` has no positive.

    >>> average_precision_score(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]))
    0.75
    """
    truth = np.asarray(y_true) == 1
    scores = np.asarray(scores, dtype=np.float64)
    grid = np.arange(0.0, 1.0, 0.001) if thresholds is None else np.asarray(thresholds)
    positives = np.sort(scores[truth])
    negatives = np.sort(scores[~truth])
    if positives.size == 0:
        return 0.0
    tp = (positives.size - np.searchsorted(positives, grid, side="left")).astype(np.float64)
    fp = (negatives.size - np.searchsorted(negatives, grid, side="left")).astype(np.float64)
    predicted = tp + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
    recall = tp / positives.size
    # Recall falls as the threshold rises: integrate over recall in the direction it runs.
    direction = -1.0 if np.any(np.diff(recall) < 0) else 1.0
    return float(direction * np.trapezoid(precision, recall))
