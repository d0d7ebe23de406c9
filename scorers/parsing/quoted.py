"""Unquoting a CSV buffer with numpy, when its quoting is of the common, well-formed kind.

A comma or newline separates cells exactly when an even number of double quotes comes before it,
provided every quoted cell is written as the ``csv`` module writes one: a quote opening the cell,
quotes inside it doubled, and a quote closing it right before the next separator. ``unquote``
checks that shape for the whole file at once and returns the file with the quotes taken out and
where its separators now are; for anything else (a quote inside an unquoted cell, an unclosed
quote, text after a closing quote, a line break inside a quoted cell, a line holding only ``""``)
it returns ``None`` and the caller reads the file with the ``csv`` module, which gives the same
cells for files of this shape and the exact message for the others.
"""

from __future__ import annotations

import numpy as np

from scorers.parsing.cells import NEWLINE, scan_separators

__all__ = ["unquote"]

_QUOTE = 34


def unquote(body: np.ndarray) -> tuple[bytes, np.ndarray] | None:
    """``body`` (the ``uint8`` bytes of a normalised CSV file holding at least one quote) as
    (the bytes with the quoting removed, the offsets of its separating commas and newlines in
    those bytes), or ``None`` when the quoting is not of the shape described above."""
    quotes = np.flatnonzero(body == _QUOTE)
    if len(quotes) % 2:
        return None
    candidates, _ = scan_separators(body)
    # A separator is real when an even number of quotes precede it.
    real = (np.searchsorted(quotes, candidates) & 1) == 0
    if not real[body[candidates] == NEWLINE].all():
        return None  # a line break inside a quoted cell: rare, left to the csv module
    separators = candidates[real]
    is_separator = np.zeros(len(body) + 1, dtype=bool)
    is_separator[separators] = True
    is_separator[len(body)] = True
    opening, closing = quotes[0::2], quotes[1::2]
    # An opening quote starts its cell, or directly follows a closing one (a doubled quote).
    after_closing = np.zeros(len(opening), dtype=bool)
    after_closing[1:] = opening[1:] == closing[:-1] + 1
    starts_cell = (opening == 0) | is_separator[opening - 1]
    if not (starts_cell | after_closing).all():
        return None
    # A closing quote ends its cell, or is directly followed by an opening one.
    before_opening = np.zeros(len(closing), dtype=bool)
    before_opening[:-1] = after_closing[1:]
    if not (is_separator[closing + 1] | before_opening).all():
        return None
    # A line holding only "" would become a blank line, which is skipped: it is a row of one cell.
    line_start = (opening == 0) | (body[opening - 1] == NEWLINE)
    if (line_start & (closing == opening + 1) & (body[np.minimum(closing + 1, len(body) - 1)] == NEWLINE)).any():
        return None
    # Of a doubled quote the first one stays, as the quote it stands for; the rest go.
    dropped = np.concatenate((opening, closing[~before_opening]))
    keep = np.ones(len(body), dtype=bool)
    keep[dropped] = False
    dropped_before = np.cumsum(~keep)
    return body[keep].tobytes(), separators - dropped_before[separators]
