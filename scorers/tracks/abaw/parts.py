"""The three Aff-Wild2 measures (valence-arousal CCC, expression macro F1, action-unit mean F1)
with their masking of unannotated frames; shared by the single-task tracks and the MTL track."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scorers.metrics import ccc_from_sums, ccc_score, confusion_matrix
from scorers.parsing import NumberColumn
from scorers.tracks.common import require_rows

VA_MISSING = -5.0
CLASS_MISSING = -1.0
# The same, as an int: class and unit columns are int8, which then compare without conversion.
_MISSING_CLASS = int(CLASS_MISSING)
EXPRESSIONS = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other")
ACTION_UNITS = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26")


def va_columns(file: str) -> list[NumberColumn]:
    """Valence and arousal in [-1, 1]; the reference may write -5 for "not annotated"."""
    missing = VA_MISSING if file == "gold" else None
    return [NumberColumn(name, -1.0, 1.0, missing=missing) for name in ("valence", "arousal")]


def class_column(name: str, n_classes: int, file: str) -> NumberColumn:
    """A class index 0..n-1; the reference may write -1 for "not annotated"."""
    missing = CLASS_MISSING if file == "gold" else None
    return NumberColumn(name, 0, n_classes - 1, missing=missing, integer=True, example="2")


def au_columns(file: str) -> list[NumberColumn]:
    """The 12 action units as 0/1; the reference may write -1 for "not annotated"."""
    missing = CLASS_MISSING if file == "gold" else None
    return [NumberColumn(name, 0, 1, missing=missing, integer=True, example="1") for name in ACTION_UNITS]


def va_scores(gold_v, gold_a, pred_v, pred_a) -> tuple[float, float]:
    """CCC of valence and of arousal, each over the frames annotated in that dimension."""

    def score(truth: np.ndarray, guess: np.ndarray, name: str) -> float:
        annotated = truth != VA_MISSING
        require_rows(int(np.count_nonzero(annotated)), what=f"annotated {name} value")
        return ccc_score(truth[annotated], guess[annotated])

    return score(gold_v, pred_v, "valence"), score(gold_a, pred_a, "arousal")


#: Bins per axis of the predicted-vs-reference density of ``va_density`` (over [-1, 1]).
DENSITY_BINS = 20


def va_density(gold_v, gold_a, pred_v, pred_a, *, bins: int = DENSITY_BINS) -> dict[str, object]:
    """A compact picture of the per-frame agreement: per dimension, a ``bins`` x ``bins`` count of the
    annotated frames by reference bin (rows) and predicted bin (columns), bins of equal width over
    [-1, 1] (1 falls in the last bin).

    >>> d = va_density(np.array([-1.0, 1.0]), np.array([0.0, VA_MISSING]), np.array([-1.0, 0.0]),
    ...                np.array([0.5, 0.5]), bins=2)
    >>> d["valence"], d["arousal"]
    ([[1, 0], [0, 1]], [[0, 0], [0, 1]])
    """

    def place(values: np.ndarray) -> np.ndarray:
        # The tolerance keeps a value written on a bin edge (e.g. -0.9) in the bin it starts.
        return np.clip(np.floor((values + 1.0) / 2.0 * bins + 1e-9).astype(np.int64), 0, bins - 1)

    def counts(truth: np.ndarray, guess: np.ndarray) -> list[list[int]]:
        annotated = truth != VA_MISSING
        rows, cols = place(truth[annotated]), place(guess[annotated])
        return np.bincount(rows * bins + cols, minlength=bins * bins).reshape(bins, bins).tolist()

    return {"bins": bins, "range": [-1.0, 1.0], "valence": counts(gold_v, pred_v), "arousal": counts(gold_a, pred_a)}


def va_features(gold_v, gold_a, pred_v, pred_a) -> np.ndarray:
    """Per-frame terms whose weighted sums give both CCCs (see ``va_from_sums``)."""
    blocks = []
    for truth, guess in ((gold_v, pred_v), (gold_a, pred_a)):
        mask = (truth != VA_MISSING).astype(np.float64)
        x = np.where(mask > 0, truth, 0.0)
        y = np.where(mask > 0, guess, 0.0)
        blocks.append(np.column_stack([mask, x, y, x * x, y * y, x * y]))
    return np.hstack(blocks)


def va_from_sums(sums: np.ndarray) -> np.ndarray:
    """Mean of the two CCCs from the ``(b, 12)`` sums of ``va_features``."""
    return (ccc_from_sums(sums[:, :6]) + ccc_from_sums(sums[:, 6:12])) / 2.0


def expression_confusion(gold: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix over the annotated frames (reference -1 left out)."""
    annotated = gold != _MISSING_CLASS
    require_rows(int(np.count_nonzero(annotated)), what="annotated expression")
    return confusion_matrix(gold[annotated].astype(np.int64), pred[annotated].astype(np.int64), n_classes)


def au_counts(gold: Sequence[np.ndarray], pred: Sequence[np.ndarray]) -> np.ndarray:
    """``(4, n_aus)`` true positives, false positives, false negatives and true negatives per
    action unit over the frames annotated for that unit; ``gold[j]`` and ``pred[j]`` hold unit
    ``j`` of every frame (one contiguous array per unit counts several times faster than the
    columns of a frames-by-units matrix)."""
    counts = np.empty((4, len(gold)), dtype=np.int64)
    for unit, (truth_values, guess_values) in enumerate(zip(gold, pred, strict=True)):
        annotated = truth_values != _MISSING_CLASS
        truth = truth_values == 1
        guess = guess_values == 1
        guess &= annotated
        guessed = np.count_nonzero(guess)
        true = np.count_nonzero(truth)
        guess &= truth
        tp = np.count_nonzero(guess)
        counts[:, unit] = (tp, guessed - tp, true - tp, np.count_nonzero(annotated) - guessed - true + tp)
    return counts


def au_breakdown(counts: np.ndarray) -> dict[str, object]:
    """Per-unit F1 and confusion matrix ``[[TN, FP], [FN, TP]]`` from ``au_counts``."""
    tp, fp, fn, tn = (counts[i].tolist() for i in range(4))
    return {
        "per_au_f1": dict(zip(ACTION_UNITS, au_f1_from_counts(counts).tolist(), strict=True)),
        "per_au_confusion": {unit: [[tn[i], fp[i]], [fn[i], tp[i]]] for i, unit in enumerate(ACTION_UNITS)},
    }


def au_f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """Per-unit F1 from ``(..., 3 or 4, n_aus)`` counts ordered TP, FP, FN (0 where a unit has no
    positive on either side)."""
    tp, fp, fn = counts[..., 0, :], counts[..., 1, :], counts[..., 2, :]
    denominator = 2.0 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2.0 * tp / denominator, 0.0)


def au_outcome_codes(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """One integer per frame encoding every unit's outcome (0 masked or TN, 1 TP, 2 FP, 3 FN) in
    base 4, so that identical frames can be grouped for resampling."""
    annotated = gold != CLASS_MISSING
    truth = (gold == 1) & annotated
    guess = (pred == 1) & annotated
    outcome = np.where(truth & guess, 1, np.where(guess, 2, np.where(truth, 3, 0)))
    return outcome.astype(np.int64) @ (4 ** np.arange(gold.shape[1], dtype=np.int64))


def au_features_from_codes(codes: np.ndarray, n_aus: int) -> np.ndarray:
    """``(groups, 3 * n_aus)`` TP/FP/FN indicators decoded from ``au_outcome_codes``."""
    digits = (codes[:, None] // (4 ** np.arange(n_aus, dtype=np.int64))) % 4
    return np.hstack([(digits == 1), (digits == 2), (digits == 3)]).astype(np.float64)
