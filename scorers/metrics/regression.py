"""Regression metrics: concordance, correlation and squared error, with population moments."""

from __future__ import annotations

import numpy as np

__all__ = ["ccc_score", "pearson_score", "mean_squared_error", "ccc_from_sums"]


def ccc_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Lin's concordance correlation coefficient with population (1/n) moments, as the ABAW
    organisers compute it: 2 cov / (var_true + var_pred + (mean_true - mean_pred)^2).

    Higher is better; 1 is perfect agreement. Returns 0 when the denominator is 0 (both sides
    constant and equal means are impossible to rank).

    >>> ccc_score(np.array([0.1, 0.4, -0.2]), np.array([0.1, 0.4, -0.2]))
    1.0
    >>> round(ccc_score(np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0])), 6)
    0.571429
    """
    x = np.asarray(y_true, dtype=np.float64)
    y = np.asarray(y_pred, dtype=np.float64)
    x_mean = x.mean()
    y_mean = y.mean()
    x_dev = x - x_mean
    y_dev = y - y_mean
    covariance = np.mean(x_dev * y_dev)
    denominator = np.mean(x_dev * x_dev) + np.mean(y_dev * y_dev) + (x_mean - y_mean) ** 2
    return float(2.0 * covariance / denominator) if denominator > 0 else 0.0


def ccc_from_sums(sums: np.ndarray) -> np.ndarray:
    """CCC from weighted sums ``(..., 6)`` = (w, wx, wy, wxx, wyy, wxy), batched (bootstrap).

    >>> x = np.array([1.0, 2.0, 3.0]); y = np.array([2.0, 3.0, 4.0])
    >>> s = np.array([3, x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()])
    >>> round(float(ccc_from_sums(s)), 6)
    0.571429
    """
    sums = np.asarray(sums, dtype=np.float64)
    n, sx, sy, sxx, syy, sxy = (sums[..., i] for i in range(6))
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = sx / n
        my = sy / n
        covariance = sxy / n - mx * my
        denominator = (sxx / n - mx * mx) + (syy / n - my * my) + (mx - my) ** 2
        return np.where(denominator > 0, 2.0 * covariance / denominator, 0.0)


def pearson_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson's correlation coefficient; higher is better. Returns 0 when either side is
    constant (no linear association can be shown).

    >>> pearson_score(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0]))
    0.9933992677987828
    """
    x = np.asarray(y_true, dtype=np.float64)
    y = np.asarray(y_pred, dtype=np.float64)
    x_dev = x - x.mean()
    y_dev = y - y.mean()
    denominator = np.sqrt(np.dot(x_dev, x_dev) * np.dot(y_dev, y_dev))
    return float(np.dot(x_dev, y_dev) / denominator) if denominator > 0 else 0.0


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of the squared differences; lower is better.

    >>> mean_squared_error(np.array([1.0, 2.0]), np.array([1.5, 1.0]))
    0.625
    """
    difference = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(difference * difference))
