"""``mer.ov-wheel``: open-vocabulary emotion labels scored on five emotion wheels (MER-OV/MER-FG).

Every predicted and reference label is mapped onto each wheel's categories; per wheel, precision
and recall of the category sets are averaged over the samples with mapped reference labels, and
the score is the mean F over the wheels. The organisers' evaluation defines every step; see
``scorers.wheel`` for the mapping and ``scorers.metrics.overlap`` for the set metric.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scorers.base import BOOTSTRAP_OPTIONS, Option, ScoreResult, TrackScorer, expected_rows_option
from scorers.parsing import Text, TextColumn, parse_csv
from scorers.parsing.table import Table
from scorers.registry import register
from scorers.stats import Resampling
from scorers.wheel.assets import LEVELS, WheelSet, load_wheel_set
from scorers.wheel.mapping import LabelMap
from scorers.wheel.npz import is_npz, read_openset_npz
from scorers.wheel.scoring import (
    LabelLists,
    WheelScores,
    label_explanations,
    resampling_parts,
    sample_explanations,
    score_label_lists,
)
from scorers.wheel.wordnet import WordNetLemmas, require_wordnet, wordnet_lemmas

__all__ = ["OpenVocabularyWheelScorer"]

_HEADER = ("name", "openset")


# Parsed label lists of the columns still alive, by the column's identity: a reference file is
# parsed once per process (the base class caches its table), so its labels are split once too.
_parsed_columns: dict[int, tuple[weakref.ref, LabelLists]] = {}


def _label_lists(column: np.ndarray) -> LabelLists:
    key = id(column)
    found = _parsed_columns.get(key)
    if found is not None and found[0]() is column:
        return found[1]
    if column.dtype.kind == "S":
        lists = LabelLists.from_utf8(column)
    else:  # an .npz submission: cell texts or label tuples
        lists = LabelLists.from_cells(column.tolist())
    _parsed_columns[key] = (weakref.ref(column, lambda _, key=key: _parsed_columns.pop(key, None)),
                            lists)
    return lists


@dataclass(frozen=True)
class _WheelAssets:
    wheel_set: WheelSet
    label_map: LabelMap
    lemmas: WordNetLemmas | None
    #: Every ring's label map, the scored level's included: the breakdown gives the score at each.
    level_maps: dict[str, LabelMap]


@register
class OpenVocabularyWheelScorer(TrackScorer):
    """The MER open-vocabulary track, scored with the organisers' emotion-wheel overlap."""

    key = "mer.ov-wheel"
    title = "MER open-vocabulary emotion (emotion-wheel overlap)"
    description = (
        "Describe each clip with any number of free emotion words. Every word is reduced to a "
        "base word, then to a synonym found on an emotion wheel, then to that word's category on "
        "the wheel (inner ring by default); words the wheel vocabulary does not know are left out. "
        "On each of five wheels, precision is the share of your categories that are also in the "
        "reference and recall the share of reference categories you found, averaged over the "
        "clips whose reference words reach that wheel; the score is the mean over the wheels of "
        "F = 2PR/(P+R)."
    )
    greater_is_better = True
    primary_metric = "fscore"
    worst_score = 0.0
    metric_names = ("fscore", "precision", "recall")
    key_column = "name"
    pred_header = _HEADER
    gold_header = _HEADER
    pred_format = (
        "CSV with header name,openset; one row per sample, the openset cell a label list such as "
        "\"['happy', 'sad']\", [happy, sad] or happy, sad (empty: no labels); or the organisers' "
        ".npz with text arrays filenames and fileitems"
    )
    needs_assets = True
    allows_extra_keys = True
    options = (
        Option("level", "choice", "level1",
               "wheel ring the labels are compared at: level1 (inner) or level2", choices=LEVELS),
        Option("lemmatize_unknown", "bool", False,
               "map a label missing from the word-form table through its WordNet lemma before "
               "dropping it (not part of the official metric)"),
        Option("explain", "bool", False,
               "add a per-sample explanation to the breakdown: each sample's labels as read and "
               "its precision and recall on every wheel (the label table is always there)"),
        expected_rows_option(),
        *BOOTSTRAP_OPTIONS,
    )

    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        """A CSV ``name,openset`` file, or the organisers' ``.npz``; label cells are parsed when
        scored."""
        if is_npz(data):
            return read_openset_npz(data, file=file)
        return parse_csv(data, file=file, header=_HEADER, key="name",
                         columns=(TextColumn("openset", decode=False),))

    def validate_assets(self, assets_dir: Path | None, options: Mapping[str, object]) -> None:
        """Check that ``assets_dir`` is a readable emotion-wheel folder, and that WordNet is
        installed when ``lemmatize_unknown`` asks for it (``AssetError`` saying what is missing
        or malformed)."""
        super().validate_assets(assets_dir, options)
        load_wheel_set(assets_dir)  # type: ignore[arg-type]
        if options.get("lemmatize_unknown"):
            require_wordnet()

    def load_assets(self, assets_dir: Path | None, options: Mapping[str, object]) -> _WheelAssets:
        super().validate_assets(assets_dir, options)
        wheel_set = load_wheel_set(assets_dir)  # type: ignore[arg-type]
        lemmas = wordnet_lemmas() if options.get("lemmatize_unknown") else None
        maps = {level: wheel_set.label_map(level) for level in LEVELS}
        return _WheelAssets(wheel_set, maps[str(options["level"])], lemmas, maps)

    def _score(self, gold: Table, pred: Table, assets: _WheelAssets) -> tuple[
            WheelScores, LabelLists, LabelLists]:
        gold_lists = _label_lists(gold["openset"])
        pred_lists = _label_lists(pred["openset"])
        scores = score_label_lists(gold_lists, pred_lists, assets.label_map, assets.lemmas)
        return scores, gold_lists, pred_lists

    def compute(
        self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object
    ) -> ScoreResult:
        loaded: _WheelAssets = assets  # type: ignore[assignment]
        scores, gold_lists, pred_lists = self._score(gold, pred, loaded)
        label_map = loaded.label_map
        wheels = {
            name: {
                "fscore": overlap.fscore,
                "precision": overlap.precision,
                "recall": overlap.recall,
                "scored_samples": int(overlap.scored.sum()),
            }
            for name, overlap in zip(label_map.wheel_names, scores.per_wheel, strict=True)
        }
        levels = {}
        for level, other in loaded.level_maps.items():
            at = scores if level == label_map.level else score_label_lists(gold_lists, pred_lists, other, loaded.lemmas)
            levels[level] = {"fscore": at.fscore, "precision": at.precision, "recall": at.recall}
        breakdown: dict[str, object] = {
            "level": label_map.level,
            "levels": levels,
            "wheels": wheels,
            "labels": label_explanations(scores, label_map),
        }
        if options.get("explain"):
            names = [key.decode("utf-8") for key in gold.keys.tolist()]
            breakdown["samples"] = sample_explanations(names, gold_lists, pred_lists, scores)
        return ScoreResult(
            score=scores.fscore,
            metrics={"fscore": scores.fscore, "precision": scores.precision,
                     "recall": scores.recall},
            breakdown=breakdown,
        )

    def resampling(
        self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object
    ) -> Resampling | None:
        scores, _, _ = self._score(gold, pred, assets)  # type: ignore[arg-type]
        features, statistic = resampling_parts(scores)
        return Resampling(counts=np.ones(len(gold), dtype=np.int64), features=features,
                          statistic=statistic)  # type: ignore[arg-type]
