"""Scoring label lists on the five emotion wheels, vectorised, with a per-sample explanation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from scorers.metrics.overlap import SetOverlap, mean_overlap_scores, set_overlap
from scorers.wheel.cells import parse_label_cell
from scorers.wheel.mapping import NOT_IN_TABLE, LabelMap
from scorers.wheel.wordnet import WordNetLemmas

NOT_IN_TABLE_NOR_LEMMA = NOT_IN_TABLE + ", nor is any of its WordNet lemmas"

__all__ = ["WheelScores", "labels_of", "score_label_lists", "sample_explanations",
           "resampling_parts"]


def labels_of(value: object) -> tuple[str, ...]:
    """The labels of one parsed entry: a cell's text, or a tuple of labels (lower-cased and
    stripped like parsed cells)."""
    if isinstance(value, tuple):
        return tuple(label.lower().strip() for label in value)
    return parse_label_cell(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class WheelScores:
    """The mean ``fscore``, ``precision`` and ``recall`` over the wheels, each wheel's
    ``SetOverlap``, and how each distinct label was resolved: ``resolved[label]`` is
    ``(table row, WordNet lemma used or None)``; ``lemmatized`` says whether labels missing from
    the word-form table were looked up in WordNet."""

    fscore: float
    precision: float
    recall: float
    per_wheel: tuple[SetOverlap, ...]
    resolved: dict[str, tuple[int, str | None]]
    lemmatized: bool = False


def _resolve(
    labels: Iterable[str], label_map: LabelMap, lemmas: WordNetLemmas | None
) -> dict[str, tuple[int, str | None]]:
    rows = label_map.rows
    unknown = label_map.unknown_row
    resolved: dict[str, tuple[int, str | None]] = {}
    for label in labels:
        row = rows.get(label, unknown)
        lemma = None
        if row == unknown and lemmas is not None:
            for candidate in lemmas.lemmas(label):
                if candidate in rows:
                    row, lemma = rows[candidate], candidate
                    break
        resolved[label] = (row, lemma)
    return resolved


def _long_form(lists: Sequence[tuple[str, ...]], row_of: dict[str, int]) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    samples = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    rows = np.fromiter((row_of[label] for label in chain.from_iterable(lists)), dtype=np.int64,
                       count=int(lengths.sum()))
    return samples, rows


def score_label_lists(
    gold: Sequence[tuple[str, ...]],
    pred: Sequence[tuple[str, ...]],
    label_map: LabelMap,
    lemmas: WordNetLemmas | None = None,
) -> WheelScores:
    """Score predicted label lists against reference label lists (same order, same length).

    Each label is mapped to its category in every wheel (``lemmas``: labels missing from the
    word-form table may go through their WordNet lemma); per wheel, the sets are compared with
    ``set_overlap``; the result averages the wheels, as the MER organisers do.
    """
    distinct = set(chain.from_iterable(gold))
    distinct.update(chain.from_iterable(pred))
    resolved = _resolve(sorted(distinct), label_map, lemmas)
    row_of = {label: row for label, (row, _) in resolved.items()}
    gold_samples, gold_rows = _long_form(gold, row_of)
    pred_samples, pred_rows = _long_form(pred, row_of)
    gold_codes = label_map.codes[gold_rows]
    pred_codes = label_map.codes[pred_rows]
    per_wheel = []
    for wheel in range(label_map.codes.shape[1]):
        gold_kept = gold_codes[:, wheel] >= 0
        pred_kept = pred_codes[:, wheel] >= 0
        per_wheel.append(
            set_overlap(
                len(gold),
                gold_samples[gold_kept],
                gold_codes[gold_kept, wheel],
                pred_samples[pred_kept],
                pred_codes[pred_kept, wheel],
            )
        )
    fscore, precision, recall = mean_overlap_scores(per_wheel)
    return WheelScores(fscore, precision, recall, tuple(per_wheel), resolved, lemmas is not None)


def _explain(label: str, scores: WheelScores, label_map: LabelMap,
             memo: dict[str, dict[str, object]]) -> dict[str, object]:
    found = memo.get(label)
    if found is None:
        row, lemma = scores.resolved[label]
        if lemma is not None:
            found = {"lemma": lemma, **label_map.explain(lemma)}
        elif row == label_map.unknown_row and scores.lemmatized:
            found = {"dropped": NOT_IN_TABLE_NOR_LEMMA}
        else:
            found = label_map.explain(label)
        memo[label] = found
    return found


def sample_explanations(
    names: Sequence[str],
    gold: Sequence[tuple[str, ...]],
    pred: Sequence[tuple[str, ...]],
    scores: WheelScores,
    label_map: LabelMap,
) -> list[dict[str, object]]:
    """Per sample: its name, each reference and predicted label with its category in every wheel
    (or why it was dropped), and the sample's precision and recall per wheel (``None`` where the
    wheel does not score the sample because no reference label maps onto it)."""
    memo: dict[str, dict[str, object]] = {}
    per_sample = []
    for values in (
        np.stack([o.sample_precision for o in scores.per_wheel], axis=1),
        np.stack([o.sample_recall for o in scores.per_wheel], axis=1),
    ):
        shown = values.astype(object)
        shown[np.isnan(values)] = None
        per_sample.append(shown.tolist())
    precisions, recalls = per_sample
    samples = []
    for i, name in enumerate(names):
        samples.append({
            "name": name,
            "gold": {label: _explain(label, scores, label_map, memo) for label in gold[i]},
            "pred": {label: _explain(label, scores, label_map, memo) for label in pred[i]},
            "precision": precisions[i],
            "recall": recalls[i],
        })
    return samples


def resampling_parts(scores: WheelScores) -> tuple[np.ndarray, object]:
    """``(features, statistic)`` for a bootstrap of the mean F over wheels.

    ``features`` has, per sample and wheel, three columns: whether the wheel scores the sample,
    its precision and its recall (0 where not scored). ``statistic`` turns weighted column sums of
    a batch of resamples into their scores.
    """
    columns = []
    for overlap in scores.per_wheel:
        scored = overlap.scored
        columns += [scored.astype(np.float64),
                    np.where(scored, overlap.sample_precision, 0.0),
                    np.where(scored, overlap.sample_recall, 0.0)]
    features = np.stack(columns, axis=1)
    wheels = len(scores.per_wheel)

    def statistic(sums: np.ndarray) -> np.ndarray:
        grouped = sums.reshape(sums.shape[0], wheels, 3)
        weight = grouped[:, :, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(weight > 0, grouped[:, :, 1] / weight, 0.0)
            recall = np.where(weight > 0, grouped[:, :, 2] / weight, 0.0)
            total = precision + recall
            fscore = np.where(total > 0, 2 * precision * recall / total, 0.0)
        return fscore.mean(axis=1)

    return features, statistic
