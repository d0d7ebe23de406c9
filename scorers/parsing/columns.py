"""Column specifications and their vectorised, strict converters.

A converter takes one column of a file as an ``S``-dtype array of cell bytes, exactly as written
(after CSV unquoting), and returns the converted array, or reports the first
offending row. The slow row-by-row checks run only to describe a problem, never on valid input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scorers.errors import quote_cell
from scorers.parsing.decimals import decimal_values

__all__ = ["NumberColumn", "LabelColumn", "TextColumn", "Column", "CellProblem"]


@dataclass(frozen=True)
class CellProblem(Exception):
    """The first bad cell of a column: its row index (0-based, among data rows) and the message."""

    index: int
    message: str


def _shown(cell: bytes, limit: int = 40) -> str:
    return quote_cell(cell, limit)


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _small_integers(cells: np.ndarray) -> np.ndarray | None:
    """Cells that are all of the form ``d``, ``dd`` or ``-d`` as int8 (the common shape of
    class indices and 0/1 flags), converted without parsing text; ``None`` otherwise."""
    width = cells.dtype.itemsize
    if cells.size == 0 or width < 2:
        return None
    raw = np.ascontiguousarray(cells).view(np.uint8).reshape(cells.size, width)
    if width > 2 and raw[:, 2:].any():
        return None
    first = raw[:, 0]
    second = raw[:, 1]
    high = first - np.uint8(48)
    low = second - np.uint8(48)
    single = (high < 10) & (second == 0)
    negative = (first == 45) & (low < 10)
    double = (high < 10) & (low < 10)
    if not (single | negative | double).all():
        return None
    high = high.view(np.int8)
    low = low.view(np.int8)
    return np.where(single, high, np.where(negative, -low, high * np.int8(10) + low))


def _same_kind(values: np.ndarray, bound: float) -> float | int:
    """``bound`` as an int when comparing it with the integer array ``values`` gives the same
    answer either way, so that numpy compares bytes rather than converting them to floats."""
    if values.dtype.kind == "i" and float(bound).is_integer():
        limits = np.iinfo(values.dtype)
        if limits.min <= bound <= limits.max:
            return int(bound)
    return bound


@dataclass(frozen=True)
class NumberColumn:
    """A finite decimal number, optionally within ``[low, high]``.

    ``missing`` is a sentinel that stands for "not annotated" (allowed in addition to the range,
    e.g. -5 for ABAW valence); ``integer`` requires whole numbers (class indices, 0/1 flags), which
    may be written ``3`` or ``3.0``. ``example`` is what the fix hint suggests writing.

    Values come back as float64; whole-number columns whose bounds fit in a byte come back as
    int8 (a million 12-unit rows then take 12 MB, not 96 MB).
    """

    name: str
    low: float | None = None
    high: float | None = None
    missing: float | None = None
    integer: bool = False
    example: str = "0.25"

    def convert(self, cells: np.ndarray) -> np.ndarray:
        """``cells`` converted (see the class docstring), or ``CellProblem`` at the first cell
        that is not acceptable."""
        values = _small_integers(cells) if self.integer else None
        bad = None
        if values is None:
            try:
                values = decimal_values(cells)
            except ValueError:
                raise self._first_unparseable(cells) from None
            bad = ~np.isfinite(values)
            if self.integer:
                bad |= values != np.round(values)
        # Small integers (int8) are finite whole numbers by construction.
        outside = np.zeros(values.shape, dtype=bool)
        if self.low is not None:
            outside |= values < _same_kind(values, self.low)
        if self.high is not None:
            outside |= values > _same_kind(values, self.high)
        if self.missing is not None:
            outside &= values != _same_kind(values, self.missing)
        bad = outside if bad is None else bad | outside
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise CellProblem(index, self._describe(cells[index].strip(), float(values[index])))
        if self.integer and self._fits_in_a_byte():
            return values.astype(np.int8, copy=False)
        return values.astype(np.float64, copy=False)

    def _fits_in_a_byte(self) -> bool:
        bounds = [self.low, self.high] + ([] if self.missing is None else [self.missing])
        return all(b is not None and -128 <= b <= 127 for b in bounds)

    def _range_text(self) -> str:
        low = "-inf" if self.low is None else _format_number(self.low)
        high = "inf" if self.high is None else _format_number(self.high)
        return f"[{low}, {high}]"

    def _kind(self) -> str:
        return "a whole number" if self.integer else "a number"

    def _first_unparseable(self, cells: np.ndarray) -> CellProblem:
        for index, cell in enumerate(cells.tolist()):
            cell = cell.strip()
            try:
                float(cell)
            except ValueError:
                return CellProblem(index, self._describe(cell, None))
        raise AssertionError("astype failed but every cell parses")  # pragma: no cover

    def _describe(self, cell: bytes, value: float | None) -> str:
        hint = f"write {self._kind()} like {self.example}"
        if self.low is not None or self.high is not None:
            hint = f"write {self._kind()} in {self._range_text()}, like {self.example}"
        if not cell:
            return f"empty value; {hint}"
        if value is None:
            return f"{_shown(cell)} is not a number; {hint}"
        if not math.isfinite(value):
            return f"{_shown(cell)} is not a finite number; {hint}"
        if self.integer and value != round(value):
            return f"{_shown(cell)} is not a whole number; {hint}"
        return f"{_shown(cell)} is outside {self._range_text()}; {hint}"


@dataclass(frozen=True)
class LabelColumn:
    """One label of a fixed set, spelled exactly as declared (blanks around it ignored);
    converted to its index. Case matters, as in the organisers' label tables."""

    name: str
    labels: tuple[str, ...]

    def convert(self, cells: np.ndarray) -> np.ndarray:
        """Label indices as int64, or ``CellProblem`` at the first unknown label."""
        lookup = {label: code for code, label in enumerate(self.labels)}
        distinct, inverse = np.unique(cells, return_inverse=True)
        codes = np.array(
            [lookup.get(cell.decode("utf-8").strip(), -1) for cell in distinct.tolist()],
            dtype=np.int64,
        )
        converted = codes[inverse.reshape(-1)]
        if codes.size and codes.min() < 0:
            index = int(np.flatnonzero(converted < 0)[0])
            allowed = ", ".join(self.labels)
            bad = cells[index].strip()
            if not bad:
                raise CellProblem(index, f"empty value; write one of {allowed}")
            raise CellProblem(index, f"{_shown(bad)} is not a label of this track; use one of {allowed}")
        return converted


@dataclass(frozen=True)
class TextColumn:
    """Free text, kept exactly as written (after CSV unquoting); converted to an object array of
    ``str``, or with ``decode=False`` kept as the ``S`` array of its UTF-8 bytes."""

    name: str
    decode: bool = True

    def convert(self, cells: np.ndarray) -> np.ndarray:
        """The cells decoded as ``str`` (the file is known to be UTF-8), or as they are."""
        if not self.decode:
            return cells
        out = np.empty(len(cells), dtype=object)
        out[:] = [cell.decode("utf-8") for cell in cells.tolist()]
        return out


Column = NumberColumn | LabelColumn | TextColumn
