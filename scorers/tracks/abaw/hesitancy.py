"""ABAW ambivalence/hesitancy recognition, scored per video."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from scorers.base import BOOTSTRAP_OPTIONS, ScoreResult, TrackScorer
from scorers.metrics import average_precision_score, confusion_matrix, macro_f1_from_confusion
from scorers.parsing import NumberColumn, Table, Text, parse_csv, prepare_text
from scorers.registry import register
from scorers.stats import Resampling
from scorers.tracks.common import classification_breakdown, confusion_resampling

_FILLED = re.compile(rb"[^\n]")
_CLASSES = ("no A/H", "A/H")


def _label(name: str) -> NumberColumn:
    return NumberColumn(name, 0, 1, integer=True, example="1")


def _softmax_positive(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Probability of class 1 from the two per-class values, through a softmax as in the
    organisers' evaluation."""
    stacked = np.column_stack([first, second])
    shifted = np.exp(stacked - stacked.max(axis=1, keepdims=True))
    return shifted[:, 1] / shifted.sum(axis=1)


@register
class AbawAh(TrackScorer):
    key = "abaw.ah"
    title = "ABAW ambivalence/hesitancy recognition (video-level macro F1)"
    description = (
        "Each test video is given 1 when it shows ambivalence or hesitancy and 0 otherwise. The "
        "score is the macro F1: the mean of the F1 of the two classes. A submission may add two "
        "per-class scores before the label (path,p0,p1,pred); they are turned into a probability "
        "of class 1 with a softmax, as in the organisers' evaluation, and reported as the "
        "average precision of class 1. The file has no header; write one row per test video."
    )
    primary_metric = "macro_f1"
    worst_score = 0.0
    metric_names = ("macro_f1", "average_precision", "accuracy")
    key_column = "path"
    pred_header = None
    gold_header = None
    pred_format = "CSV without header: path,pred or path,p0,p1,pred; pred is 0 or 1"
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        if file == "gold":
            columns = [_label("label")]
        else:
            text = prepare_text(data, file=file)  # not blank: some byte is not a newline
            start = _FILLED.search(text).start()  # past blank lines before the first row
            first_line = text[start : text.find(b"\n", start)]
            if first_line.count(b",") == 3:
                columns = [NumberColumn("p0"), NumberColumn("p1"), _label("pred")]
            else:
                columns = [_label("pred")]
        table = parse_csv(data, file=file, header=None, key="path", columns=columns)
        if file == "gold":
            table.columns["pred"] = table.columns.pop("label")
        return table

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        truth = gold["pred"].astype(np.int64)
        guess = pred["pred"].astype(np.int64)
        confusion = confusion_matrix(truth, guess, 2)
        f1 = float(macro_f1_from_confusion(confusion))
        metrics = {"macro_f1": f1, "accuracy": float(np.mean(truth == guess))}
        if "p0" in pred.columns:
            positive = _softmax_positive(pred["p0"], pred["p1"])
            metrics["average_precision"] = average_precision_score(truth, positive)
        return ScoreResult(score=f1, metrics=metrics, breakdown=classification_breakdown(confusion, _CLASSES))

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        truth, guess = gold["pred"].astype(np.int64), pred["pred"].astype(np.int64)
        return confusion_resampling(confusion_matrix(truth, guess, 2), macro_f1_from_confusion, truth * 2 + guess)
