"""MER tracks: discrete emotions, discrete + valence, and pairwise preference."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scorers.base import BOOTSTRAP_OPTIONS, Option, ScoreResult, TrackScorer, expected_rows_option
from scorers.metrics import (
    accuracy_score,
    confusion_matrix,
    mean_squared_error,
    weighted_f1_from_confusion,
)
from scorers.parsing import LabelColumn, NumberColumn, Table, Text, parse_csv
from scorers.registry import register
from scorers.stats import Resampling
from scorers.tracks.common import classification_breakdown, confusion_resampling, require_rows

MER_EMOTIONS = ("neutral", "angry", "happy", "sad", "worried", "surprise")

_LABELS_OPTION = Option(
    "labels",
    "str_list",
    MER_EMOTIONS,
    "the emotion labels of the track, comma-separated",
)


def _labels(options: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(options["labels"])  # type: ignore[arg-type]


@register
class MerDiscrete(TrackScorer):
    key = "mer.discrete"
    title = "MER discrete emotion (weighted F1)"
    description = (
        "Each sample is given one discrete emotion label. The score is the weighted F1: the F1 of "
        "every emotion, averaged with weights equal to how many test samples carry that emotion. "
        "The test samples are hidden among a larger candidate pool; write a prediction for every "
        "candidate, and only the test samples are scored."
    )
    primary_metric = "waf"
    worst_score = 0.0
    metric_names = ("waf", "accuracy")
    key_column = "name"
    pred_header = ("name", "discrete")
    gold_header = ("name", "discrete")
    pred_format = "CSV with header name,discrete; one row per candidate sample, label per row"
    allows_extra_keys = True
    options = (_LABELS_OPTION, expected_rows_option(), *BOOTSTRAP_OPTIONS)

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(
            data,
            file=file,
            header=self.pred_header if file == "prediction" else self.gold_header,
            key="name",
            columns=[LabelColumn("discrete", _labels(options))],
        )

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        labels = _labels(options)
        confusion = confusion_matrix(gold["discrete"], pred["discrete"], len(labels))
        waf = float(weighted_f1_from_confusion(confusion))
        accuracy = accuracy_score(gold["discrete"], pred["discrete"])
        return ScoreResult(
            score=waf,
            metrics={"waf": waf, "accuracy": accuracy},
            breakdown=classification_breakdown(confusion, labels),
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        labels = _labels(options)
        confusion = confusion_matrix(gold["discrete"], pred["discrete"], len(labels))
        cells = gold["discrete"].astype(np.int64) * len(labels) + pred["discrete"]
        return confusion_resampling(confusion, weighted_f1_from_confusion, cells)


@register
class MerMulti(TrackScorer):
    key = "mer.multi"
    title = "MER discrete emotion and valence (weighted F1 - 0.25 x MSE)"
    description = (
        "Each sample is given one discrete emotion label and a valence value. The score combines "
        "the weighted F1 of the emotions (per-emotion F1 averaged with weights equal to each "
        "emotion's number of test samples) with the mean squared error of valence: "
        "score = weighted F1 - 0.25 x MSE. Write exactly one row per test sample."
    )
    primary_metric = "combined"
    metric_names = ("combined", "waf", "mse", "accuracy")
    key_column = "name"
    pred_header = ("name", "discrete", "valence")
    gold_header = ("name", "discrete", "valence")
    pred_format = "CSV with header name,discrete,valence; one row per test sample"
    options = (
        _LABELS_OPTION,
        Option("mse_weight", "float", 0.25, "weight of the valence MSE in the score", minimum=0.0),
        *BOOTSTRAP_OPTIONS,
    )

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(
            data,
            file=file,
            header=self.pred_header,
            key="name",
            columns=[
                LabelColumn("discrete", _labels(options)),
                NumberColumn("valence", example="-1.5"),
            ],
        )

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        labels = _labels(options)
        confusion = confusion_matrix(gold["discrete"], pred["discrete"], len(labels))
        waf = float(weighted_f1_from_confusion(confusion))
        mse = mean_squared_error(gold["valence"], pred["valence"])
        combined = waf - float(options["mse_weight"]) * mse  # type: ignore[arg-type]
        return ScoreResult(
            score=combined,
            metrics={
                "combined": combined,
                "waf": waf,
                "mse": mse,
                "accuracy": accuracy_score(gold["discrete"], pred["discrete"]),
            },
            breakdown=classification_breakdown(confusion, labels),
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        k = len(_labels(options))
        weight = float(options["mse_weight"])  # type: ignore[arg-type]
        cells = gold["discrete"] * k + pred["discrete"]
        squared = (gold["valence"] - pred["valence"]) ** 2
        # Samples sharing a cell and a squared error are interchangeable: group them.
        groups, index, inverse, counts = np.unique(
            np.column_stack([cells, squared]), axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        features = np.zeros((len(groups), k * k + 1))
        features[np.arange(len(groups)), cells[index]] = 1.0
        features[:, -1] = squared[index]

        def statistic(sums: np.ndarray) -> np.ndarray:
            confusion = sums[:, : k * k].reshape(-1, k, k)
            n = confusion.sum(axis=(1, 2))
            return weighted_f1_from_confusion(confusion) - weight * sums[:, -1] / n

        return Resampling(counts=counts, features=features, statistic=statistic, sample_groups=inverse.ravel())


PREFERENCES = ("a1", "a2", "same")


@register
class MerPrefer(TrackScorer):
    key = "mer.prefer"
    title = "MER pairwise emotion preference (weighted F1)"
    description = (
        "Each pair of descriptions is given a preference: a1, a2 or same. Reference pairs marked "
        "same are left out, and a predicted same counts as a1, as in the organisers' evaluation. "
        "The score is the weighted F1 over a1 and a2. The test pairs are hidden among a larger "
        "candidate pool; write a prediction for every candidate."
    )
    primary_metric = "weighted_f1"
    worst_score = 0.0
    metric_names = ("weighted_f1", "accuracy")
    key_column = "name"
    pred_header = ("name", "preference")
    gold_header = ("name", "preference")
    pred_format = "CSV with header name,preference; preference is a1, a2 or same"
    allows_extra_keys = True
    options = (expected_rows_option(), *BOOTSTRAP_OPTIONS)

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        return parse_csv(
            data,
            file=file,
            header=self.pred_header,
            key="name",
            columns=[LabelColumn("preference", PREFERENCES)],
        )

    @staticmethod
    def _scored(gold: Table, pred: Table) -> tuple[np.ndarray, np.ndarray]:
        kept = gold["preference"] != 2
        require_rows(int(np.count_nonzero(kept)), what="pair with a preference other than same")
        guessed = pred["preference"][kept]
        return gold["preference"][kept], np.where(guessed == 2, 0, guessed)

    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        truth, guess = self._scored(gold, pred)
        confusion = confusion_matrix(truth, guess, 2)
        f1 = float(weighted_f1_from_confusion(confusion))
        breakdown = classification_breakdown(confusion, PREFERENCES[:2])
        breakdown["dropped_same"] = int(len(gold) - len(truth))
        return ScoreResult(
            score=f1,
            metrics={"weighted_f1": f1, "accuracy": accuracy_score(truth, guess)},
            breakdown=breakdown,
        )

    def resampling(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> Resampling:
        truth, guess = self._scored(gold, pred)
        # Pairs marked same in the reference are not scored: they are not resampled either.
        return confusion_resampling(confusion_matrix(truth, guess, 2), weighted_f1_from_confusion,
                                    truth.astype(np.int64) * 2 + guess)
