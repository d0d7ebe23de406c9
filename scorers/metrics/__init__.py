"""Pure metric functions on numpy arrays (``*_score``: higher is better, ``*_error``: lower)."""

from scorers.metrics.classification import (
    accuracy_score,
    average_precision_score,
    binary_f1_score,
    confusion_matrix,
    macro_f1_from_confusion,
    macro_f1_score,
    per_class_f1,
    weighted_f1_from_confusion,
    weighted_f1_score,
)
from scorers.metrics.overlap import (
    SetOverlap,
    mean_overlap_scores,
    set_overlap,
    set_overlap_score,
    set_overlaps,
)
from scorers.metrics.regression import ccc_from_sums, ccc_score, mean_squared_error, pearson_score

__all__ = [
    "SetOverlap",
    "accuracy_score",
    "average_precision_score",
    "binary_f1_score",
    "ccc_from_sums",
    "ccc_score",
    "confusion_matrix",
    "macro_f1_from_confusion",
    "macro_f1_score",
    "mean_overlap_scores",
    "mean_squared_error",
    "pearson_score",
    "per_class_f1",
    "set_overlap",
    "set_overlap_score",
    "set_overlaps",
    "weighted_f1_from_confusion",
    "weighted_f1_score",
]
