"""The label -> wheel-category table of one wheel set at one level, and why labels are dropped.

A label (a lower-cased, stripped word form) is mapped, for each wheel, as the organisers map it:
word form -> its base words (word-form table) -> their synonym candidates (synonym sheet) -> the
alphabetically first candidate present in the wheel -> that word's category at the level. A label
with no such candidate is dropped for that wheel. The table is built once for every word form, so
scoring a submission is a dictionary lookup per label and integer set operations per wheel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scorers.wheel.assets import WheelSet

__all__ = ["LabelMap", "build_label_map", "NOT_IN_TABLE", "NO_CANDIDATES"]

NOT_IN_TABLE = "not in the word-form table"
NO_CANDIDATES = "its base words have no synonym candidates"


@dataclass
class LabelMap:
    """Word form -> category code per wheel, at one level.

    ``codes[rows[label], w]`` is the index of the label's category in ``categories[w]``, or -1 when
    the label is dropped for wheel ``w``. Row ``unknown_row`` (the last) is all -1: it stands for a
    label missing from the word-form table.
    """

    level: str
    wheel_names: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    rows: dict[str, int]
    codes: np.ndarray
    candidate_counts: np.ndarray
    _explanations: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)

    @property
    def unknown_row(self) -> int:
        return len(self.rows)

    def row_of(self, label: str) -> int:
        """The table row of ``label`` (``unknown_row`` when it is not a known word form)."""
        return self.rows.get(label, len(self.rows))

    def category(self, label: str, wheel: int) -> str | None:
        """The category of ``label`` in wheel number ``wheel`` (0-based), or ``None``."""
        code = int(self.codes[self.row_of(label), wheel])
        return self.categories[wheel][code] if code >= 0 else None

    def explain(self, label: str) -> dict[str, object]:
        """``{"wheel1": category or None, ..., "dropped": reason}`` for a known word form, or
        ``{"dropped": "not in the word-form table"}``. ``dropped`` is present only when the label
        is dropped for some wheel. A known word form gets the same dict object every time."""
        found = self._explanations.get(label)
        if found is not None:
            return found
        row = self.rows.get(label)
        if row is None:
            return {"dropped": NOT_IN_TABLE}  # not remembered: unknown labels are unbounded
        found = {}
        missing = []
        for w, name in enumerate(self.wheel_names):
            code = int(self.codes[row, w])
            found[name] = self.categories[w][code] if code >= 0 else None
            if code < 0:
                missing.append(name)
        if missing:
            if self.candidate_counts[row] == 0:
                found["dropped"] = NO_CANDIDATES
            else:
                found["dropped"] = "no synonym candidate in " + " or ".join(missing)
        self._explanations[label] = found
        return found


def build_label_map(wheel_set: WheelSet, level: str) -> LabelMap:
    """Map every word form of ``wheel_set`` to its category in each wheel at ``level``."""
    category_maps = [wheel.categories(level) for wheel in wheel_set.wheels]
    categories = tuple(tuple(sorted(set(mapping.values()))) for mapping in category_maps)
    code_maps = [
        {word: categories[w].index(category) for word, category in mapping.items()}
        for w, mapping in enumerate(category_maps)
    ]
    forms = list(wheel_set.word_forms)
    codes = np.full((len(forms) + 1, len(code_maps)), -1, dtype=np.int32)
    counts = np.zeros(len(forms) + 1, dtype=np.int32)
    for row, form in enumerate(forms):
        candidates = wheel_set.candidates(form)
        counts[row] = len(candidates)
        for w, code_map in enumerate(code_maps):
            for candidate in candidates:  # sorted: the first one present wins
                code = code_map.get(candidate)
                if code is not None:
                    codes[row, w] = code
                    break
    return LabelMap(
        level=level,
        wheel_names=wheel_set.wheel_names,
        categories=categories,
        rows={form: row for row, form in enumerate(forms)},
        codes=codes,
        candidate_counts=counts,
    )
