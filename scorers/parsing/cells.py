"""Finding the cells of a plain (unquoted) CSV buffer and copying them into ``S`` arrays.

The buffer is handled with numpy as one array of bytes. Work that reads the file goes block by
block (of bytes, or of rows), so that the file's bytes and the temporaries of a block stay in the
processor's cache while every column of the block is copied out: reading a million-row file
column by column straight from memory would read it once per column. Blocks are not smaller than
that needs, though: every numpy call gives up and takes back the interpreter lock, and while a
second thread parses the other file, each of those hand-overs may wait for that thread, so fewer,
larger calls keep the two threads from queueing behind each other.
"""

from __future__ import annotations

import numpy as np

from scorers.parsing.source import Text

__all__ = ["NEWLINE", "scan_separators", "cells_by_column"]

NEWLINE, _COMMA, _SPACE, _TAB = 10, 44, 32, 9
_BELOW = 45  # every byte the scan looks for is below this one
_LAST_ASCII = 0x7F
_NOT_PLAIN = np.array([0, 13, 34], dtype=np.uint8)  # NUL, carriage return, double quote
_SCAN_BLOCK = 1 << 20  # bytes
_ROW_BLOCK = 1 << 17  # rows
# _KEEP[k] keeps the first k bytes of a little-endian 64-bit word.
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype="<u8")


def scan_separators(body: np.ndarray, *, plain_ascii: bool = False) -> tuple[np.ndarray, int] | None:
    """Offsets of every newline and comma of ``body`` (a ``uint8`` array), and the offset of the
    last space or tab (-1 if there is none).

    With ``plain_ascii``, returns ``None`` as soon as a byte turns up that needs the careful path
    (one above 0x7F, a NUL, a carriage return or a double quote), so that a file of plain ASCII
    is checked and split in one pass."""
    below = np.empty(min(_SCAN_BLOCK, len(body)), dtype=bool)
    found = []
    last_blank = -1
    for start in range(0, len(body), _SCAN_BLOCK):
        chunk = body[start : start + _SCAN_BLOCK]
        if plain_ascii and chunk.max(initial=0) > _LAST_ASCII:
            return None
        # Newline, tab, space and comma are all below "-" (45); in most files nothing else is.
        mask = np.less(chunk, _BELOW, out=below[: len(chunk)])
        offsets = np.flatnonzero(mask)
        found_bytes = chunk[offsets]
        separator = (found_bytes == NEWLINE) | (found_bytes == _COMMA)
        if not separator.all():
            is_blank = (found_bytes == _SPACE) | (found_bytes == _TAB)
            if plain_ascii and np.isin(found_bytes[~(separator | is_blank)], _NOT_PLAIN).any():
                return None
            blank = np.flatnonzero(is_blank)
            if blank.size:
                last_blank = start + int(offsets[blank[-1]])
            offsets = offsets[separator]
        offsets += start
        found.append(offsets)
    return (np.concatenate(found) if found else np.zeros(0, dtype=np.intp)), last_blank


def cells_by_column(
    text: Text,
    row_starts: np.ndarray,
    bounds: np.ndarray,
    *,
    strip_keys: bool,
) -> list[np.ndarray]:
    """The cells of every column as zero-padded ``S`` arrays.

    Row ``i`` starts at ``row_starts[i]`` and ``bounds[i]`` holds the offsets of its separators
    (its commas, then its newline). The first column (the key) loses leading and trailing spaces
    and tabs when ``strip_keys``; other cells are kept as written. A column other than the key
    whose cells are all at most two bytes long (class indices, 0/1 flags) comes back as ``S2``;
    any other column as wide as its longest cell rounded up to a multiple of 8.
    """
    body = np.frombuffer(text, dtype=np.uint8)
    n, count = bounds.shape
    key_starts, key_ends = row_starts, bounds[:, 0]
    if strip_keys:
        key_starts, key_ends = _strip_blanks(body, key_starts, key_ends)
    blocks = [slice(first, min(first + _ROW_BLOCK, n)) for first in range(0, n, _ROW_BLOCK)]
    # Columns start as short cells (except the key) and become windows, as wide as needed so
    # far, when a longer cell turns up; the rows already done are then copied again.
    columns: list[_ShortCells | _Windows] = [_Windows(text, n)] + [_ShortCells(n) for _ in range(1, count)]
    for done, rows in enumerate(blocks):
        block = bounds[rows]  # the block's separators, read column by column while in cache
        for column in range(count):
            starts, ends = (
                (key_starts[rows], key_ends[rows]) if column == 0 else (block[:, column - 1] + 1, block[:, column])
            )
            if not columns[column].fill(body, rows, starts, ends):
                columns[column] = _Windows(text, n)
                for earlier in blocks[:done]:
                    columns[column].fill(body, earlier, bounds[earlier, column - 1] + 1, bounds[earlier, column])
                columns[column].fill(body, rows, starts, ends)
    return [cells.result() for cells in columns]


def _strip_blanks(body: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges narrowed past leading and trailing spaces and tabs."""
    while True:
        lead = (starts < ends) & ((body[starts] == _SPACE) | (body[starts] == _TAB))
        if not lead.any():
            break
        starts = starts + lead
    while True:
        last = body[np.maximum(ends - 1, 0)]
        trail = (starts < ends) & ((last == _SPACE) | (last == _TAB))
        if not trail.any():
            break
        ends = ends - trail
    return starts, ends


class _ShortCells:
    """Cells of at most two bytes, read byte by byte from the file."""

    def __init__(self, n: int) -> None:
        self.out = np.empty((n, 2), dtype=np.uint8)  # every row is written by ``fill``

    def fill(self, body: np.ndarray, rows: slice, starts: np.ndarray, ends: np.ndarray) -> bool:
        """Copy the cells of ``rows``; ``False`` (and nothing copied) if one is longer than two bytes."""
        lengths = ends - starts
        if lengths.max(initial=0) > 2:
            return False
        out = self.out[rows]
        np.multiply(body[starts], lengths > 0, out=out[:, 0])
        np.multiply(body[np.minimum(starts + 1, len(body) - 1)], lengths == 2, out=out[:, 1])
        return True

    def result(self) -> np.ndarray:
        return self.out.view("S2").reshape(len(self.out))


class _Windows:
    """Cells copied as windows of the file (as wide as the longest cell so far, a multiple of 8
    bytes), then cleared past their end."""

    def __init__(self, text: Text, n: int) -> None:
        self.text = text
        self.width = 8
        self.out = np.empty(n, dtype="V8")  # every row is written by ``fill``

    def fill(self, body: np.ndarray, rows: slice, starts: np.ndarray, ends: np.ndarray) -> bool:
        """Copy the cells of ``rows`` (always possible: returns ``True``)."""
        lengths = ends - starts
        longest = int(lengths.max(initial=0))
        if longest > self.width:
            self._widen(8 * -(-longest // 8), rows.start)
        width = self.width
        out = self.out[rows]
        # Every ``width``-byte window of the file, one per byte offset (overlapping, no copy).
        windows = np.ndarray(
            shape=(max(len(self.text) - width + 1, 0),), dtype=f"V{width}", buffer=self.text, strides=(1,)
        )
        inside = int(np.searchsorted(starts, len(windows) - 1, side="right"))
        out[:inside] = windows[starts[:inside]]
        for row in range(inside, len(starts)):  # the last windows would run past the end of the file
            start = int(starts[row])
            out[row] = self.text[start : start + width].ljust(width, b"\0")
        words = out.view("<u8").reshape(len(out), width // 8)
        shortest = int(lengths.min(initial=0))
        for word in range(width // 8):
            if shortest < 8 * (word + 1):  # some cells end within this word: clear what follows them
                kept = lengths - 8 * word
                np.clip(kept, 0, 8, out=kept)
                words[:, word] &= _KEEP[kept]
        return True

    def _widen(self, width: int, done: int) -> None:
        # Not np.zeros: zeroing a large block taken from the heap holds the interpreter lock, and
        # the rows from ``done`` on are written by ``fill`` anyway.
        wider = np.empty((len(self.out), width), dtype=np.uint8)
        wider[:done, : self.width] = self.out[:done].view(np.uint8).reshape(done, self.width)
        wider[:done, self.width :] = 0
        self.out = wider.view(f"V{width}").reshape(len(self.out))
        self.width = width

    def result(self) -> np.ndarray:
        return self.out.view(f"S{self.width}")
