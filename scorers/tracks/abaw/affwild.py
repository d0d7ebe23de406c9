"""ABAW Aff-Wild2 tracks: valence-arousal, expression, action units, and multi-task."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scorers.base import BOOTSTRAP_OPTIONS, ScoreResult, TrackScorer
from scorers.metrics import macro_f1_from_confusion
from scorers.parsing import Table, Text, parse_csv
from scorers.registry import register
from scorers.stats import Resampling
from scorers.tracks.abaw.parts import (
    ACTION_UNITS,
    EXPRESSIONS,
    au_breakdown,
    au_columns,
    au_counts,
    au_f1_from_counts,
    au_features_from_codes,
    au_outcome_codes,
    class_column,
    expression_confusion,
    va_columns,
    va_density,
    va_features,
    va_from_sums,
    va_scores,
)
from scorers.tracks.common import classification_breakdown, confusion_resampling

_FRAME_NOTE = "Write exactly one row per test frame, in any order."


@register
class AbawVa(TrackScorer):
    key = "abaw.va"
    title = "ABAW valence-arousal estimation (mean CCC)"
    description = (
        "Each frame is given a valence and an arousal value in [-1, 1]. Each dimension is scored "
        "with the concordance correlation coefficient (CCC) over all test frames pooled, which "
        "rewards both correlation and agreement in mean and scale; frames without a reference "
        "value in a dimension are left out of that dimension. The score is the mean of the two "
        "CCCs. " + _FRAME_NOTE
    )
    primary_metric = "mean_ccc"
    worst_score = -1.0
    metric_names = ("mean_ccc", "ccc_valence", "ccc_arousal")
    key_column = "image_location"
    pred_header = ("image_location", "valence", "arousal")
    gold_header = pred_header
    pred_format = "CSV with header image_location,valence,arousal; values in [-1, 1]"
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(data, file=file, header=self.pred_header, key=self.key_column, columns=va_columns(file))

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        valence, arousal = va_scores(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"])
        mean = (valence + arousal) / 2.0
        return ScoreResult(
            score=mean,
            metrics={"mean_ccc": mean, "ccc_valence": valence, "ccc_arousal": arousal},
            breakdown={"ccc": {"valence": valence, "arousal": arousal},
                       "density": va_density(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"])},
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        features = va_features(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"])
        return Resampling(np.ones(len(features), dtype=np.int64), features, va_from_sums)


class ClassIndexTrack(TrackScorer):
    """A single-label frame track: one class index per row under a header naming the classes."""

    classes: tuple[str, ...]
    value_column: str
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(
            data,
            file=file,
            header=self.pred_header,
            key=self.key_column,
            columns=[class_column(self.value_column, len(self.classes), file)],
        )

    def _confusion(self, gold: Table, pred: Table) -> np.ndarray:
        return expression_confusion(gold[self.value_column], pred[self.value_column], len(self.classes))

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        confusion = self._confusion(gold, pred)
        f1 = float(macro_f1_from_confusion(confusion))
        return ScoreResult(
            score=f1,
            metrics={"macro_f1": f1},
            breakdown=classification_breakdown(confusion, self.classes),
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        truth = gold[self.value_column].astype(np.int64)
        cells = np.where(truth >= 0, truth * len(self.classes) + pred[self.value_column].astype(np.int64), -1)
        return confusion_resampling(self._confusion(gold, pred), macro_f1_from_confusion, cells)


@register
class AbawExpr(ClassIndexTrack):
    key = "abaw.expr"
    title = "ABAW expression recognition (macro F1, 8 classes)"
    description = (
        "Each frame is given one of eight expressions, written as its index 0-7 in the order of "
        "the header (Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise, Other). The "
        "score is the macro F1: the plain mean of the eight per-class F1 scores, a class absent "
        "from both reference and prediction counting 0. Frames without a reference label are "
        "left out. " + _FRAME_NOTE
    )
    primary_metric = "macro_f1"
    worst_score = 0.0
    metric_names = ("macro_f1",)
    key_column = "image_location"
    classes = EXPRESSIONS
    value_column = "expression"
    pred_header = ("image_location", *EXPRESSIONS)
    gold_header = pred_header
    pred_format = "CSV with header image_location,Neutral,...,Other; each row: image_location,class index 0-7"


@register
class AbawAu(TrackScorer):
    key = "abaw.au"
    title = "ABAW action unit detection (mean F1, 12 AUs)"
    description = (
        "Each frame is given 0 or 1 for each of twelve action units. Every unit is scored with "
        "the F1 of its positive class over the frames annotated for that unit, and the score is "
        "the mean of the twelve F1 scores. " + _FRAME_NOTE
    )
    primary_metric = "mean_f1"
    worst_score = 0.0
    metric_names = ("mean_f1",)
    key_column = "image_location"
    pred_header = ("image_location", *ACTION_UNITS)
    gold_header = pred_header
    pred_format = "CSV with header image_location,AU1,...,AU26; twelve 0/1 values per row"
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(data, file=file, header=self.pred_header, key=self.key_column, columns=au_columns(file))

    @staticmethod
    def _units(gold: Table, pred: Table) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return [gold[name] for name in ACTION_UNITS], [pred[name] for name in ACTION_UNITS]

    @staticmethod
    def _matrices(gold: Table, pred: Table) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.column_stack([gold[name] for name in ACTION_UNITS]),
            np.column_stack([pred[name] for name in ACTION_UNITS]),
        )

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        counts = au_counts(*self._units(gold, pred))
        mean = float(au_f1_from_counts(counts).mean())
        return ScoreResult(
            score=mean,
            metrics={"mean_f1": mean},
            breakdown=au_breakdown(counts),
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        codes, inverse, counts = np.unique(
            au_outcome_codes(*self._matrices(gold, pred)), return_inverse=True, return_counts=True
        )
        n = len(ACTION_UNITS)
        features = au_features_from_codes(codes, n)
        return Resampling(
            counts,
            features,
            lambda sums: au_f1_from_counts(sums.reshape(-1, 3, n)).mean(axis=-1),
            sample_groups=inverse.ravel(),
        )


@register
class AbawMtl(TrackScorer):
    key = "abaw.mtl"
    title = "ABAW multi-task learning (P_VA + P_EXPR + P_AU)"
    description = (
        "Each frame is given valence and arousal in [-1, 1], an expression index 0-7 and twelve "
        "0/1 action units. The score is the sum of the three single-task measures: the mean CCC "
        "of valence and arousal, the macro F1 over the eight expressions and the mean F1 over "
        "the twelve action units; unannotated reference values are left out of their measure. " + _FRAME_NOTE
    )
    primary_metric = "mtl"
    worst_score = -1.0  # a CCC of -1 plus two F1 scores of 0
    best_score = 3.0  # the sum of three measures that each reach 1
    metric_names = ("mtl", "va", "expr", "au", "ccc_valence", "ccc_arousal")
    key_column = "image"
    pred_header = ("image", "valence", "arousal", "expression", "aus")
    gold_header = pred_header
    pred_format = (
        "CSV with header image,valence,arousal,expression,aus; each row: image, valence, arousal, "
        "expression index and the 12 AU values (16 cells)"
    )
    options = BOOTSTRAP_OPTIONS

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        columns = [*va_columns(file), class_column("expression", 8, file), *au_columns(file)]
        return parse_csv(data, file=file, header=self.pred_header, key=self.key_column, columns=columns)

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        valence, arousal = va_scores(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"])
        va = (valence + arousal) / 2.0
        confusion = expression_confusion(gold["expression"], pred["expression"], 8)
        expr = float(macro_f1_from_confusion(confusion))
        counts = au_counts(*AbawAu._units(gold, pred))
        au = float(au_f1_from_counts(counts).mean())
        total = va + expr + au
        breakdown = {
            "ccc": {"valence": valence, "arousal": arousal},
            "density": va_density(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"]),
            "expression": classification_breakdown(confusion, EXPRESSIONS),
            **au_breakdown(counts),
        }
        return ScoreResult(
            score=total,
            metrics={"mtl": total, "va": va, "expr": expr, "au": au, "ccc_valence": valence, "ccc_arousal": arousal},
            breakdown=breakdown,
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        va = va_features(gold["valence"], gold["arousal"], pred["valence"], pred["arousal"])
        annotated = gold["expression"] >= 0
        codes = gold["expression"].astype(np.int64) * 8 + pred["expression"].astype(np.int64)
        cells = np.where(annotated, codes, 0)
        expression = np.zeros((len(gold), 64))
        expression[np.arange(len(gold)), cells] = annotated
        truth, guess = AbawAu._matrices(gold, pred)
        au = au_features_from_codes(au_outcome_codes(truth, guess), len(ACTION_UNITS))
        n = len(ACTION_UNITS)

        def statistic(sums: np.ndarray) -> np.ndarray:
            expr = macro_f1_from_confusion(sums[:, 12:76].reshape(-1, 8, 8))
            au_mean = au_f1_from_counts(sums[:, 76:].reshape(-1, 3, n)).mean(axis=-1)
            return va_from_sums(sums[:, :12]) + expr + au_mean

        features = np.hstack([va, expression, au])
        return Resampling(np.ones(len(gold), dtype=np.int64), features, statistic)
