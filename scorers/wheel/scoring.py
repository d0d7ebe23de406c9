"""Scoring label lists on the five emotion wheels, vectorised, with a per-sample explanation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress

import numpy as np

from scorers.metrics.overlap import SetOverlap, mean_overlap_scores, set_overlaps
from scorers.wheel.cells import parse_label_cell
from scorers.wheel.mapping import NOT_IN_TABLE, LabelMap
from scorers.wheel.wordnet import WordNetLemmas

__all__ = [
    "LabelLists",
    "WheelScores",
    "NOT_IN_TABLE_NOR_LEMMA",
    "score_label_lists",
    "label_explanations",
    "sample_explanations",
    "resampling_parts",
]

NOT_IN_TABLE_NOR_LEMMA = NOT_IN_TABLE + ", nor is any of its WordNet lemmas"


@dataclass(frozen=True)
class LabelLists:
    """The labels of ``n`` entries (samples) in long form: ``labels[offsets[i]:offsets[i + 1]]``
    are entry ``i``'s labels, in order, repeats kept; ``entry`` gives each label's entry."""

    labels: list[str]
    entry: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, i: int) -> list[str]:
        """Entry ``i``'s labels."""
        return self.labels[self.offsets[i] : self.offsets[i + 1]]

    @classmethod
    def from_tuples(cls, lists: Sequence[Sequence[str]]) -> LabelLists:
        """From one sequence of (already parsed) labels per entry."""
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        entry = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
        return cls(list(chain.from_iterable(lists)), entry, offsets)

    @classmethod
    def from_utf8(cls, column: np.ndarray) -> LabelLists:
        """From label-list cells given as UTF-8 bytes (an ``S`` array), read as
        ``parse_label_cell`` reads one."""
        if len(column) == 0:
            return cls.from_tuples([])
        return _split_utf8(column)

    @classmethod
    def from_cells(cls, values: Sequence[object]) -> LabelLists:
        """From parsed file entries: label-list cell texts (read as ``parse_label_cell`` reads
        one), or tuples of labels (lower-cased and stripped)."""
        if not values or not all(type(v) is str for v in values):
            return cls.from_tuples([
                tuple(x.lower().strip() for x in v) if isinstance(v, tuple)
                else parse_label_cell(v)  # type: ignore[arg-type]
                for v in values
            ])
        return _split_cells(values)  # type: ignore[arg-type]


_COMMA, _QUOTE, _DOUBLE_QUOTE, _OPEN, _CLOSE = (ord(c) for c in ",'\"[]")
# The characters str.strip() removes (those for which str.isspace() is true), as a lookup table
# indexed by code point; none lies above U+3000.
WHITESPACE = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
              0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_IS_BLANK = np.zeros(max(WHITESPACE) + 2, dtype=bool)
_IS_BLANK[list(WHITESPACE)] = True


def _split_cells(cells: Sequence[str]) -> LabelLists:
    """``parse_label_cell`` applied to every cell of ``cells`` at once (see ``_split_joined``)."""
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    return _split_joined(",".join(cells), lengths)


def _split_utf8(column: np.ndarray) -> LabelLists:
    """``_split_cells`` for cells given as UTF-8 bytes (an ``S`` array, as a CSV column is read):
    the cells are decoded once, together, and their lengths in characters are counted with
    numpy (the bytes that do not continue a character)."""
    raw = column.tolist()
    joined = b",".join(raw)
    if joined.isascii():
        lengths = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
        return _split_joined(joined.decode("ascii"), lengths)
    octets = np.ascontiguousarray(column).view(np.uint8).reshape(len(column), column.dtype.itemsize)
    lengths = np.count_nonzero(((octets & 0xC0) != 0x80) & (octets != 0), axis=1).astype(np.int64)
    return _split_joined(joined.decode("utf-8"), lengths)


def _split_joined(text: str, lengths: np.ndarray) -> LabelLists:
    """``parse_label_cell`` applied to every cell at once, on the characters of the cells joined
    by commas (``text``); ``lengths`` are the cells' lengths in characters.

    Dropping a cell's leading "[" or trailing "]" is done by turning it into a comma, like the
    quotes: that only adds empty pieces, which are dropped anyway. Each label is then cut out of
    the lower-cased text at bounds found with numpy: the first and last character of its piece
    that is neither a blank nor a separator. That equals lower-casing each stripped piece unless
    lower-casing changes the length of the text or meets a capital sigma (whose lower case
    depends on the letters around it); then each kept piece is split off, stripped and lowered.
    """
    n = len(lengths)
    ascii_text = text.isascii()
    chars = np.frombuffer(text.encode("ascii") if ascii_text else text.encode("utf-32-le"),
                          dtype=np.uint8 if ascii_text else np.uint32).copy()
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    ends = starts + lengths
    lead = lengths > 0
    lead[lead] = chars[starts[lead]] == _OPEN
    trail = lengths - lead > 0
    trail[trail] = chars[ends[trail] - 1] == _CLOSE
    chars[starts[lead]] = _COMMA
    chars[ends[trail] - 1] = _COMMA
    chars[(chars == _QUOTE) | (chars == _DOUBLE_QUOTE)] = _COMMA
    is_separator = chars == _COMMA
    # a piece is kept when something other than blanks is left between its separators
    content = ~is_separator & ~_IS_BLANK[chars if ascii_text else np.minimum(chars, len(_IS_BLANK) - 1)]
    lowered = text.lower()
    if len(lowered) == len(text) and "\u03a3" not in text:
        at = np.flatnonzero(content)
        piece = np.cumsum(is_separator)[at]  # the piece each content character lies in
        first = np.ones(len(at), dtype=bool)
        np.not_equal(piece[1:], piece[:-1], out=first[1:])
        last = np.roll(first, -1)
        label_starts, label_ends = at[first], at[last] + 1
        labels = [lowered[a:b] for a, b in zip(label_starts.tolist(), label_ends.tolist(), strict=True)]
        entry = np.searchsorted(starts, label_starts, side="right") - 1
    else:
        separators_before = np.zeros(len(chars) + 1, dtype=np.int64)
        np.cumsum(is_separator, out=separators_before[1:])
        pieces_per_cell = separators_before[ends] - separators_before[starts] + 1
        keep = np.zeros(int(separators_before[-1]) + 1, dtype=bool)
        keep[separators_before[:-1][content]] = True
        entry = np.repeat(np.arange(n, dtype=np.int64), pieces_per_cell)[keep]
        marked = chars.tobytes().decode("ascii" if ascii_text else "utf-32-le")
        pieces = compress(marked.split(","), keep.tolist())
        labels = [p.strip().lower().strip() for p in pieces]
    offsets = np.searchsorted(entry, np.arange(n + 1))
    return LabelLists(labels, entry, offsets)


@dataclass(frozen=True)
class WheelScores:
    """The mean ``fscore``, ``precision`` and ``recall`` over the wheels, each wheel's
    ``SetOverlap``, and how each distinct label was resolved: ``rows[label]`` is its row in the
    label map (its lemma's row when ``lemmas_used[label]`` names the WordNet lemma that was used);
    ``lemmatized`` says whether labels missing from the word-form table were looked up in
    WordNet."""

    fscore: float
    precision: float
    recall: float
    per_wheel: tuple[SetOverlap, ...]
    rows: dict[str, int]
    lemmas_used: dict[str, str]
    lemmatized: bool = False


def _resolve(
    labels: set[str], label_map: LabelMap, lemmas: WordNetLemmas | None
) -> tuple[dict[str, int], dict[str, str]]:
    known = label_map.rows
    unknown = label_map.unknown_row
    get = known.get
    rows = {label: get(label, unknown) for label in labels}
    used: dict[str, str] = {}
    if lemmas is not None:
        for label in [label for label, row in rows.items() if row == unknown]:
            for candidate in lemmas.lemmas(label):
                if candidate in known:
                    rows[label], used[label] = known[candidate], candidate
                    break
    return rows, used


def _as_lists(lists: LabelLists | Sequence[Sequence[str]]) -> LabelLists:
    return lists if isinstance(lists, LabelLists) else LabelLists.from_tuples(lists)


def score_label_lists(
    gold: LabelLists | Sequence[Sequence[str]],
    pred: LabelLists | Sequence[Sequence[str]],
    label_map: LabelMap,
    lemmas: WordNetLemmas | None = None,
) -> WheelScores:
    """Score predicted label lists against reference label lists (same order, same length).

    Each label is mapped to its category in every wheel (``lemmas``: labels missing from the
    word-form table may go through their WordNet lemma); per wheel, the sets are compared with
    ``set_overlap``; the result averages the wheels, as the MER organisers do.
    """
    gold, pred = _as_lists(gold), _as_lists(pred)
    row_of, used = _resolve(set(gold.labels).union(pred.labels), label_map, lemmas)
    codes = [
        label_map.codes[np.fromiter(map(row_of.__getitem__, side.labels), dtype=np.int64,
                                    count=len(side.labels))]
        for side in (gold, pred)
    ]
    per_wheel = set_overlaps(len(gold), gold.entry, codes[0], pred.entry, codes[1])
    fscore, precision, recall = mean_overlap_scores(per_wheel)
    return WheelScores(fscore, precision, recall, tuple(per_wheel), row_of, used,
                       lemmas is not None)


def label_explanations(scores: WheelScores, label_map: LabelMap) -> dict[str, dict[str, object]]:
    """What every distinct label met became: its category in each wheel, ``None`` where it is
    dropped, with ``dropped`` saying why (and ``lemma`` when it went through its WordNet lemma).
    Known labels share one dict each."""
    found: dict[str, dict[str, object]] = {}
    unknown = label_map.unknown_row
    for label, row in scores.rows.items():
        lemma = scores.lemmas_used.get(label)
        if lemma is not None:
            found[label] = {"lemma": lemma, **label_map.explain(lemma)}
        elif row == unknown and scores.lemmatized:
            found[label] = {"dropped": NOT_IN_TABLE_NOR_LEMMA}
        else:
            found[label] = label_map.explain(label)
    return found


def _per_sample(columns: Sequence[np.ndarray]) -> list[tuple[float | None, ...]]:
    """One tuple per sample from per-wheel columns, ``None`` for NaN."""
    shown = []
    for column in columns:
        values = column.astype(object)
        values[np.isnan(column)] = None
        shown.append(values.tolist())
    return list(zip(*shown, strict=True))


def sample_explanations(
    names: Sequence[str],
    gold: LabelLists | Sequence[Sequence[str]],
    pred: LabelLists | Sequence[Sequence[str]],
    scores: WheelScores,
) -> list[dict[str, object]]:
    """How each sample scored: its name, its reference (``gold``) and predicted (``pred``) labels
    as read (each one is looked up in ``label_explanations``), and its precision and recall per
    wheel (``None`` where the wheel does not score the sample: no reference label maps onto it).
    Sharing one label table keeps this small for a large test set."""
    gold, pred = _as_lists(gold), _as_lists(pred)
    precisions = _per_sample([o.sample_precision for o in scores.per_wheel])
    recalls = _per_sample([o.sample_recall for o in scores.per_wheel])
    # Tuples of strings and numbers (not lists) let the garbage collector stop tracking the
    # many small per-sample objects.
    gold_labels, pred_labels = (
        [labels[a:b] for a, b in zip(at, at[1:], strict=False)]
        for labels, at in ((tuple(gold.labels), gold.offsets.tolist()),
                           (tuple(pred.labels), pred.offsets.tolist()))
    )
    return [
        {"name": name, "gold": gold_of, "pred": pred_of, "precision": precision,
         "recall": recall}
        for name, gold_of, pred_of, precision, recall in zip(
            names, gold_labels, pred_labels, precisions, recalls, strict=True)
    ]


def resampling_parts(scores: WheelScores) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
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
