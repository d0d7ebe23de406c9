"""Resampling per sample, the same draws for every submission: what the board's paired statistics rest on."""

from __future__ import annotations

import numpy as np
import pytest

import scorers.stats
from scorers import get_scorer
from scorers.stats import board_seed, paired_resample_scores
from tests.scorers.test_bootstrap_interval import TRACKS, _case


def _parts(key: str):
    scorer = get_scorer(key)
    gold, pred = _case(key)
    return scorer.score_splits(golds={"all": gold}, pred=pred, with_resampling=True)["all"]


@pytest.mark.parametrize("key", TRACKS)
def test_sample_groups_add_up_to_the_group_counts(key):
    result = _parts(key)
    parts = result.resampling
    counts = np.asarray(parts.counts)
    if parts.sample_groups is None:
        assert np.all(counts == 1)
    else:
        groups = parts.sample_groups[parts.sample_groups >= 0]
        assert np.bincount(groups, minlength=len(counts)).tolist() == counts.tolist()
    # Every sample drawn once: the observed score.
    unit = np.ones((1, parts.samples()))
    if parts.sample_groups is not None:
        unit = np.bincount(groups, minlength=len(counts)).astype(np.float64)[None, :]
    sums = unit if parts.features is None else unit @ parts.features
    assert float(parts.statistic(sums)[0]) == pytest.approx(result.score, abs=1e-9)
    assert "resampling" not in result.to_json()


@pytest.mark.parametrize("key", ["mer.multi", "abaw.au", "abaw.expr"])
def test_batches_draw_the_same_resamples_as_one_draw(key, monkeypatch):
    parts = _parts(key).resampling
    whole = paired_resample_scores(parts, resamples=50, seed=9)
    monkeypatch.setattr(scorers.stats, "_CELLS_PER_BATCH", 7 * parts.samples())
    # The same draws; the sums may round differently in the last bit with the batch's shape (BLAS blocking).
    np.testing.assert_allclose(paired_resample_scores(parts, resamples=50, seed=9), whole, rtol=1e-12, atol=0)
    assert whole.shape == (50,) and not np.array_equal(whole, paired_resample_scores(parts, resamples=50, seed=10))


def test_board_seed_fits_a_signed_64_bit_column():
    seeds = {board_seed(phase, split) for phase in range(50) for split in ("public", "private")}
    assert len(seeds) == 100 and all(0 <= seed < 2**63 for seed in seeds)
