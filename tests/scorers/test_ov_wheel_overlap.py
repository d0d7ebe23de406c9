"""The set-overlap metric behind the emotion-wheel score."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scorers.metrics import overlap
from scorers.metrics.overlap import (
    SetOverlap,
    mean_overlap_scores,
    set_overlap,
    set_overlap_score,
    set_overlaps,
)


def long_form(sets: list[set[int]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(i, label) for i, labels in enumerate(sets) for label in sorted(labels)]
    pairs += pairs[::3]  # repeated labels count once
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64))


def naive(gold: list[set[int]], pred: list[set[int]]) -> tuple[float, float]:
    precision, recall = [], []
    for g, p in zip(gold, pred, strict=True):
        if not g:
            continue
        precision.append(len(g & p) / len(p) if p else 0)
        recall.append(len(g & p) / len(g))
    return (float(np.mean(precision)) if precision else 0.0,
            float(np.mean(recall)) if recall else 0.0)


def test_hand_worked() -> None:
    # sample 0: G {0, 1}, P {1, 2}: precision 1/2, recall 1/2; sample 1: G {3}, P {}: 0, 0;
    # sample 2: G {}, P {4}: not scored. P = 1/4, R = 1/4, F = 1/4.
    result = set_overlap(3, *long_form([{0, 1}, {3}, set()]), *long_form([{1, 2}, set(), {4}]))
    assert (result.precision, result.recall, result.fscore) == (0.25, 0.25, 0.25)
    assert result.sample_precision[:2].tolist() == [0.5, 0.0]
    assert np.isnan(result.sample_precision[2]) and np.isnan(result.sample_recall[2])
    assert result.scored.tolist() == [True, True, False]


def test_no_scored_sample_gives_zero() -> None:
    empty = np.array([], dtype=np.int64)
    result = set_overlap(2, empty, empty, np.array([0]), np.array([1]))
    assert (result.precision, result.recall, result.fscore) == (0.0, 0.0, 0.0)
    assert set_overlap_score(0, empty, empty, empty, empty) == 0.0


@pytest.mark.parametrize("dense", [True, False])
def test_matches_plain_sets(monkeypatch, dense: bool) -> None:
    if not dense:
        monkeypatch.setattr(overlap, "_DENSE_CELLS", 0)
    rng = random.Random(5)
    gold = [set(rng.sample(range(30), rng.randint(0, 4))) for _ in range(500)]
    pred = [set(rng.sample(range(30), rng.randint(0, 5))) for _ in range(500)]
    result = set_overlap(500, *long_form(gold), *long_form(pred))
    precision, recall = naive(gold, pred)
    assert result.precision == pytest.approx(precision, rel=1e-15)
    assert result.recall == pytest.approx(recall, rel=1e-15)
    assert result.fscore == pytest.approx(2 * precision * recall / (precision + recall), rel=1e-15)


def test_mean_over_comparisons() -> None:
    scores = [SetOverlap(0.5, 0.25, 1 / 3, None, None), SetOverlap(0.0, 0.0, 0.0, None, None)]
    assert mean_overlap_scores(scores) == (1 / 6, 0.25, 0.125)


@pytest.mark.parametrize("layout", ["bits", "dense", "keys"])
def test_several_label_spaces_at_once(monkeypatch, layout: str) -> None:
    """Entries sorted by sample, with codes below 64, are compared as bit masks; otherwise as
    boolean matrices, or as sorted keys when those would be large. All agree with one space at
    a time (which compares one label space as a matrix)."""
    if layout == "keys":
        monkeypatch.setattr(overlap, "_DENSE_CELLS", 0)
    rng = np.random.default_rng(11)
    gold_sample = rng.integers(0, 300, 900)
    pred_sample = rng.integers(0, 320, 1000) % 300
    gold_labels = rng.integers(-1, [4, 9, 64], (900, 3))
    pred_labels = rng.integers(-1, [5, 9, 64], (1000, 3))
    if layout == "bits":
        gold_order, pred_order = np.argsort(gold_sample, kind="stable"), np.argsort(pred_sample, kind="stable")
        gold_sample, gold_labels = gold_sample[gold_order], gold_labels[gold_order]
        pred_sample, pred_labels = pred_sample[pred_order], pred_labels[pred_order]
    used = []
    monkeypatch.setattr(overlap, "_bit_sets", lambda *a, real=overlap._bit_sets: used.append(1) or real(*a))
    together = set_overlaps(300, gold_sample, gold_labels, pred_sample, pred_labels)
    assert bool(used) == (layout == "bits")
    for k, result in enumerate(together):
        g, p = gold_labels[:, k] >= 0, pred_labels[:, k] >= 0
        alone = set_overlap(300, gold_sample[g], gold_labels[g, k], pred_sample[p],
                            pred_labels[p, k])
        assert (result.precision, result.recall, result.fscore) == (
            alone.precision, alone.recall, alone.fscore)
        np.testing.assert_array_equal(result.sample_recall, alone.sample_recall)
        np.testing.assert_array_equal(result.sample_precision, alone.sample_precision)


def test_codes_of_64_and_more_are_not_compared_as_bit_masks(monkeypatch) -> None:
    monkeypatch.setattr(overlap, "_bit_sets", None)  # any use would fail
    gold = set_overlaps(2, np.array([0, 1]), np.array([[64], [3]]), np.array([0, 1]), np.array([[64], [2]]))
    assert (gold[0].precision, gold[0].recall) == (0.5, 0.5)
