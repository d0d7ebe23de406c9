"""CSV the site lets people download, safe to open in a spreadsheet.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
leading tab or carriage return can hide such a start; team and method names are chosen by
participants, so a name like ``=HYPERLINK(...)`` would run in an organiser's spreadsheet. Every
CSV writer of the site is a ``SafeCsvWriter`` (OWASP "CSV injection": such a cell is
prefixed with a single quote, which the spreadsheet shows as text).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "safe_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A plain decimal number such as -0.25, +3, 1e-3 or -.5: shown as a number, never run.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it and never run it.

    Numbers (and ``None``, an empty cell) are returned unchanged; text that starts like a formula
    gets a leading single quote, unless it is a plain number such as ``-0.5`` or ``1e-3``.

    >>> safe_cell("=1+1"), safe_cell("-2+3"), safe_cell("-0.25"), safe_cell(-0.25), safe_cell("Team A")
    ("'=1+1", "'-2+3", '-0.25', -0.25, 'Team A')
    """
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` (same arguments) whose every cell goes through ``safe_cell``.

    ``csv`` quotes only the characters of its own line ending, so with ``lineterminator="\\n"`` a
    carriage return inside a name would be left bare and end the row in a spreadsheet (and the
    text after it would start a new row, unchecked); a row with a line break in a cell is written
    with all its text quoted.
    """

    def __init__(self, stream, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)
        self._quoting_writer = csv.writer(stream, **{**fmtparams, "quoting": csv.QUOTE_NONNUMERIC})

    def writerow(self, row: Iterable[Any]) -> Any:
        cells = [safe_cell(value) for value in row]
        breaks = any(isinstance(cell, str) and ("\r" in cell or "\n" in cell) for cell in cells)
        return (self._quoting_writer if breaks else self._writer).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
