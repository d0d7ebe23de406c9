"""Exact, vectorised text-to-float conversion of short decimal cells.

Numpy's cast from bytes to float64 parses every cell with Python's ``float``; on a million cells
that is most of the cost of reading a valence-arousal file. Most cells of such files have one
shape, an optional ``-``, one digit, and optionally a point and up to 14 more digits (``-0.5722``,
``1``, ``-5.0``). For those, the digits are combined with integer arithmetic on 8-byte words (the
"SWAR" technique), giving the integer ``M = cell x 10^14`` exactly (``M < 10^15 < 2^53``); then
``M / 10^14`` is a single IEEE division of two exactly represented numbers, which is correctly
rounded, as is ``float``. The two therefore give the same bits. Every other cell is converted with
numpy's cast, so the result, the accepted cells and the rejected cells are exactly those of
``cells.astype(np.float64)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decimal_values", "short_decimals"]

_U = np.uint64
_BYTE = _U(0xFF)
_LOW_NIBBLES = _U(0x0F0F0F0F0F0F0F0F)
_ONES = _U(0x0101010101010101)
_HIGH_BITS = _U(0x8080808080808080)
_ASCII_ZEROS = _U(0x3030303030303030)
_TO_TOP_BIT = _U(0x7676767676767676)  # a byte above 9 gets its top bit set when this is added
_FIRST_TWO = _U(0xFFFF)
_TWO_ZERO_DIGITS = _U(0x3030)
_SCALE = 1e14  # 10^14, exact in float64
_SAMPLE = 32
# Cells converted per step: the temporaries of a step then stay in the processor's (L2/L3) cache,
# in few enough steps that a second thread parsing the other file rarely waits for the lock.
_BLOCK = 131072


def decimal_values(cells: np.ndarray) -> np.ndarray:
    """``cells.astype(np.float64)``, bit for bit, raising ``ValueError`` exactly when it does.

    ``cells`` is a one-dimensional ``S``-dtype array of cells as written, without NUL bytes.
    """
    if cells.size == 0 or not short_decimals(cells[:_SAMPLE])[1].all():
        return cells.astype(np.float64)  # not the common shape: the fast path would not pay
    values = np.empty(cells.shape[0], dtype=np.float64)
    exact = np.empty(cells.shape[0], dtype=bool)
    for start in range(0, cells.shape[0], _BLOCK):
        stop = start + _BLOCK
        values[start:stop], exact[start:stop] = short_decimals(cells[start:stop])
    if not exact.all():
        others = ~exact
        values[others] = cells[others].astype(np.float64)
    return values


def short_decimals(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, exact)``: for every cell of the form ``[-]d[.ddd...]`` of at most 16 bytes,
    ``exact`` is true and ``values`` holds its correctly rounded float64; other entries of
    ``values`` are meaningless.

    ``cells`` is a one-dimensional ``S``-dtype array without NUL bytes (a NUL byte is taken as
    the end of the cell, as numpy's ``S`` dtype does for trailing ones).
    """
    n = cells.shape[0]
    width = cells.dtype.itemsize
    raw = np.ascontiguousarray(cells).view(np.uint8).reshape(n, width)
    exact = np.ones(n, dtype=bool) if width <= 16 else raw[:, 16] == 0
    words = 1 if width <= 8 else 2
    if width == 8 * words:
        x = raw.view("<u8").T.copy()  # (words, n): row 0 holds bytes 0-7 of every cell
    else:
        padded = np.zeros((n, 8 * words), dtype=np.uint8)
        padded[:, : min(width, 8 * words)] = raw[:, : 8 * words]
        x = padded.view("<u8").T.copy()
    scratch = np.empty_like(x)
    negative = _drop_minus_sign(x, scratch)
    first = x[0]
    digit = scratch[0]
    np.bitwise_and(first, _BYTE, out=digit)
    digit -= _U(0x30)
    exact &= digit < _U(10)
    units = digit.astype(np.float64)  # the digit before the point (meaningful where exact)
    second = scratch[0]
    np.right_shift(first, _U(8), out=second)
    second &= _BYTE
    exact &= (second == _U(0x2E)) | (second == _U(0))
    # The digit and the point become "00", so that every byte left is a digit or padding.
    first &= ~_FIRST_TWO
    first |= _TWO_ZERO_DIGITS
    exact &= ~_has_other_bytes(x, scratch)
    fraction = _combine_digits(x, scratch)  # the 14 digits after the point, as an integer
    values = fraction.astype(np.float64)
    units *= _SCALE
    values += units  # exact: both terms and the sum are integers below 2^53
    values /= _SCALE
    np.negative(values, out=values, where=negative)
    return values, exact


def _drop_minus_sign(x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Shift the cells that start with ``-`` one byte down, in place; returns which did."""
    np.bitwise_and(x[0], _BYTE, out=scratch[0])
    negative = scratch[0] == _U(0x2D)
    if negative.any():
        shift = negative.astype(_U)
        shift <<= _U(3)
        if len(x) > 1:
            carried = scratch[1]
            np.left_shift(x[1], _U(56), out=carried)
            carried *= negative
        x >>= shift
        if len(x) > 1:
            x[0] |= carried
    return negative


def _has_other_bytes(x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Per cell: whether some byte is neither an ASCII digit nor padding (a zero byte).

    Zero bytes only trail, so the zero-byte test below sees no borrow from a lower byte and is
    exact; a carry in the digit test only arises from a byte that is already flagged.
    """
    np.subtract(x, _ONES, out=scratch)
    scratch &= ~x
    scratch &= _HIGH_BITS  # top bit set on zero bytes
    offsets = x ^ _ASCII_ZEROS  # digits become 0-9
    flagged = offsets + _TO_TOP_BIT
    flagged |= offsets
    flagged &= _HIGH_BITS  # top bit set on bytes that are not digits
    flagged &= ~scratch
    return flagged.any(axis=0)


def _combine_digits(x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The integer written by the 8 (or 16) digit bytes of each cell, padding counting as 0.

    The first byte is the most significant digit: pairs, then quads, then octets of digits are
    combined in place, one multiply-shift-add per level.
    """
    x &= _LOW_NIBBLES
    for factor, shift, mask in (
        (10, 8, 0x00FF00FF00FF00FF),
        (100, 16, 0x0000FFFF0000FFFF),
        (10000, 32, 0x00000000FFFFFFFF),
    ):
        np.multiply(x, _U(factor), out=scratch)
        x >>= _U(shift)
        x += scratch
        x &= _U(mask)
    combined = x[0] * _U(10**8)
    if len(x) > 1:
        combined += x[1]
    return combined
