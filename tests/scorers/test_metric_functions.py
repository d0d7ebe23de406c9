"""Metric functions: hand-worked values and agreement with scikit-learn / the organisers' code."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from scorers.metrics import (
    accuracy_score,
    average_precision_score,
    binary_f1_score,
    ccc_from_sums,
    ccc_score,
    confusion_matrix,
    macro_f1_from_confusion,
    macro_f1_score,
    mean_squared_error,
    pearson_score,
    per_class_f1,
    weighted_f1_from_confusion,
    weighted_f1_score,
)

TOLERANCE = 1e-12


def organisers_ccc(x: np.ndarray, y: np.ndarray) -> float:
    """CCC written the way the ABAW organisers' evaluation writes it."""
    rho = np.corrcoef(x, y)[0][1]
    x_s, y_s = np.std(x), np.std(y)
    return 2 * rho * x_s * y_s / (x_s**2 + y_s**2 + (np.mean(x) - np.mean(y)) ** 2)


def threshold_sweep_ap(truth: np.ndarray, scores: np.ndarray) -> float:
    """Average precision as the A/H organisers' loop computes it."""
    precisions, recalls = [], []
    for threshold in np.arange(0, 1, 0.001):
        guess = scores >= threshold
        tp = np.sum(guess & (truth == 1))
        fp = np.sum(guess & (truth == 0))
        fn = np.sum(~guess & (truth == 1))
        precisions.append(tp / (tp + fp) if tp + fp > 0 else 0.0)
        recalls.append(tp / (tp + fn))
    return float(skm.auc(np.array(recalls), np.array(precisions)))


@pytest.fixture(params=range(6))
def rng(request) -> np.random.Generator:
    return np.random.default_rng(1000 + request.param)


def test_weighted_f1_matches_scikit_learn(rng):
    n = int(rng.integers(1, 3000))
    truth = rng.integers(0, 5, n)  # class 5 never in the reference
    guess = rng.integers(0, 6, n)
    expected = skm.f1_score(truth, guess, average="weighted", zero_division=0)
    assert weighted_f1_score(truth, guess, 6) == pytest.approx(expected, abs=TOLERANCE)


def test_macro_f1_over_a_fixed_label_set_matches_scikit_learn(rng):
    n = int(rng.integers(1, 3000))
    truth = rng.integers(0, 6, n)  # classes 6 and 7 absent from both sides
    guess = rng.integers(0, 6, n)
    expected = skm.f1_score(truth, guess, average="macro", labels=range(8), zero_division=0)
    assert macro_f1_score(truth, guess, 8) == pytest.approx(expected, abs=TOLERANCE)


def test_binary_f1_accuracy_and_mse_match_scikit_learn(rng):
    n = int(rng.integers(1, 3000))
    truth = rng.integers(0, 2, n)
    guess = rng.integers(0, 2, n)
    assert binary_f1_score(truth, guess) == pytest.approx(skm.f1_score(truth, guess, zero_division=0), abs=TOLERANCE)
    assert accuracy_score(truth, guess) == pytest.approx(skm.accuracy_score(truth, guess), abs=TOLERANCE)
    x, y = rng.normal(size=n), rng.normal(size=n)
    assert mean_squared_error(x, y) == pytest.approx(skm.mean_squared_error(x, y), abs=TOLERANCE)


def test_ccc_and_pearson_match_the_reference_formulas(rng):
    n = int(rng.integers(3, 5000))
    x = rng.uniform(-1, 1, n)
    y = 0.6 * x + rng.normal(0.1, 0.3, n)
    assert ccc_score(x, y) == pytest.approx(organisers_ccc(x, y), abs=TOLERANCE)
    assert pearson_score(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=TOLERANCE)


def test_average_precision_matches_the_organisers_threshold_sweep(rng):
    n = int(rng.integers(2, 400))
    truth = rng.integers(0, 2, n)
    truth[0] = 1
    scores = rng.random(n)
    expected = threshold_sweep_ap(truth, scores)
    assert average_precision_score(truth, scores) == pytest.approx(expected, abs=TOLERANCE)


def test_hand_worked_classification_values():
    truth = np.array([0, 0, 0, 1])
    guess = np.array([0, 0, 1, 1])
    # class 0: F1 = 2*2/(2*2+0+1) = 0.8 (support 3); class 1: 2/(2+1+0) = 2/3 (support 1)
    assert weighted_f1_score(truth, guess, 2) == pytest.approx((3 * 0.8 + 2 / 3) / 4, abs=1e-15)
    # a class absent from both sides counts 0 in the macro mean
    assert macro_f1_score(np.array([0, 0, 1]), np.array([0, 1, 1]), 3) == pytest.approx(4 / 9)
    assert binary_f1_score(np.array([0, 0]), np.array([0, 0])) == 0.0
    assert accuracy_score(truth, guess) == 0.75


def test_hand_worked_regression_values():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 3.0, 4.0])
    # means 2 and 3, variances 2/3, covariance 2/3: CCC = (4/3) / (4/3 + 1) = 4/7
    assert ccc_score(x, y) == pytest.approx(4 / 7, abs=1e-15)
    assert pearson_score(x, y) == pytest.approx(1.0, abs=1e-15)
    assert ccc_score(x, np.full(3, 2.0)) == 0.0  # no covariance with a constant
    assert ccc_score(np.ones(3), np.ones(3)) == 0.0  # undefined: reported as 0
    assert pearson_score(x, np.ones(3)) == 0.0
    assert mean_squared_error(x, y) == 1.0


def test_hand_worked_average_precision():
    truth = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.1, 0.7, 0.3])
    # recall 0 -> 0.5 while precision rises 0 -> 1 (area 0.25), then precision 1 up to recall 1
    assert average_precision_score(truth, scores) == pytest.approx(0.75, abs=1e-15)
    assert average_precision_score(np.zeros(3, dtype=int), scores[:3]) == 0.0


def test_confusion_matrix_counts_and_weights():
    truth = np.array([0, 1, 1, 2])
    guess = np.array([0, 1, 2, 2])
    assert confusion_matrix(truth, guess, 3).tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    weighted = confusion_matrix(truth, guess, 3, sample_weight=np.array([2.0, 1.0, 0.5, 1.0]))
    assert weighted.tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]]


def test_batched_confusion_metrics_equal_the_single_ones(rng):
    truth = rng.integers(0, 4, (5, 300))
    guess = rng.integers(0, 4, (5, 300))
    stack = np.stack([confusion_matrix(t, g, 4) for t, g in zip(truth, guess, strict=True)])
    np.testing.assert_allclose(
        weighted_f1_from_confusion(stack),
        [weighted_f1_score(t, g, 4) for t, g in zip(truth, guess, strict=True)],
        rtol=0,
        atol=TOLERANCE,
    )
    np.testing.assert_allclose(
        macro_f1_from_confusion(stack),
        [macro_f1_score(t, g, 4) for t, g in zip(truth, guess, strict=True)],
        rtol=0,
        atol=TOLERANCE,
    )
    assert per_class_f1(stack).shape == (5, 4)


def test_ccc_from_sums_equals_ccc(rng):
    x = rng.uniform(-1, 1, 500)
    y = rng.uniform(-1, 1, 500)
    sums = np.array([x.size, x.sum(), y.sum(), x @ x, y @ y, x @ y])
    assert float(ccc_from_sums(sums)) == pytest.approx(ccc_score(x, y), abs=1e-10)
