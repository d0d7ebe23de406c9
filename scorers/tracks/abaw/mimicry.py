"""ABAW emotional mimicry intensity estimation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scorers.base import BOOTSTRAP_OPTIONS, ScoreResult, TrackScorer
from scorers.metrics import pearson_score
from scorers.parsing import NumberColumn, Table, Text, parse_csv
from scorers.registry import register
from scorers.stats import Resampling

MIMICRY_DIMENSIONS = ("Admiration", "Amusement", "Determination", "Empathic Pain", "Excitement", "Joy")


def _pearson_from_sums(sums: np.ndarray) -> np.ndarray:
    """Pearson r from ``(..., 6)`` sums (n, x, y, xx, yy, xy); 0 where a side is constant."""
    n, sx, sy, sxx, syy, sxy = (sums[..., i] for i in range(6))
    covariance = sxy - sx * sy / n
    spread = (sxx - sx * sx / n) * (syy - sy * sy / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, covariance / np.sqrt(spread), 0.0)


@register
class AbawEmi(TrackScorer):
    key = "abaw.emi"
    title = "ABAW emotional mimicry intensity (mean Pearson r)"
    description = (
        "Each video is given an intensity for six emotions (Admiration, Amusement, "
        "Determination, Empathic Pain, Excitement, Joy). Each emotion is scored with Pearson's "
        "correlation between predicted and reference intensities over the test videos, and the "
        "score is the mean of the six correlations. Write exactly one row per test video."
    )
    primary_metric = "mean_pearson"
    worst_score = -1.0
    metric_names = ("mean_pearson",)
    key_column = "Filename"
    pred_header = ("Filename", *MIMICRY_DIMENSIONS)
    gold_header = pred_header
    pred_format = "CSV with header Filename,Admiration,...,Joy; six numbers per row"
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(
            data,
            file=file,
            header=self.pred_header,
            key=self.key_column,
            columns=[NumberColumn(name, example="0.5") for name in MIMICRY_DIMENSIONS],
        )

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        per_dimension = {name: pearson_score(gold[name], pred[name]) for name in MIMICRY_DIMENSIONS}
        mean = float(np.mean(list(per_dimension.values())))
        return ScoreResult(
            score=mean,
            metrics={"mean_pearson": mean},
            breakdown={"pearson": per_dimension},
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        blocks = []
        for name in MIMICRY_DIMENSIONS:
            x = gold[name] - gold[name].mean()  # centring keeps the sums well conditioned
            y = pred[name] - pred[name].mean()
            blocks.append(np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y]))
        features = np.hstack(blocks)
        k = len(MIMICRY_DIMENSIONS)
        return Resampling(
            np.ones(len(gold), dtype=np.int64),
            features,
            lambda sums: _pearson_from_sums(sums.reshape(-1, k, 6)).mean(axis=-1),
        )
