"""Key checks and alignment on fixed-width byte-string key arrays, vectorised.

Keys are hashed to 64-bit integers (sorting integers is several times faster than sorting strings);
every match found through a hash is confirmed on the keys themselves, and a hash collision falls
back to sorting the keys directly, so results never depend on the hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scorers.errors import SubmissionFormatError, quote_cell

if TYPE_CHECKING:
    from scorers.parsing.table import Table

__all__ = ["KeyIndex", "key_hashes", "key_index", "check_unique_keys", "locate_keys"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
_BLOCK = 131072  # keys hashed per step (see scorers.parsing.decimals._BLOCK)


def key_hashes(keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every key of an ``S``-dtype array.

    Equal keys get equal hashes whatever the width of the arrays they sit in: keys hold no NUL
    bytes, so the all-zero 8-byte words that pad a key are skipped.
    """
    width = keys.dtype.itemsize
    n = keys.shape[0]
    if width == 0 or n == 0:
        return np.zeros(n, dtype=np.uint64)
    words = -(-width // 8)
    if width % 8:
        padded = np.zeros((n, words * 8), dtype=np.uint8)
        padded[:, :width] = np.ascontiguousarray(keys).view(np.uint8).reshape(n, width)
        chunks = padded.view("<u8")
    else:
        chunks = np.ascontiguousarray(keys).view("<u8").reshape(n, words)
    hashes = np.empty(n, dtype=np.uint64)
    for first in range(0, n, _BLOCK):  # block by block, so that the temporaries stay in cache
        rows = slice(first, first + _BLOCK)
        hashes[rows] = _hash_words(chunks[rows])
    return hashes


def _hash_words(chunks: np.ndarray) -> np.ndarray:
    """The hash of each row of ``chunks`` (the 8-byte words of the keys), all-zero words skipped."""
    state = np.full(len(chunks), _MIX, dtype=np.uint64)
    mixed = np.empty_like(state)
    shifted = np.empty_like(state)
    with np.errstate(over="ignore"):
        for j in range(chunks.shape[1]):
            chunk = chunks[:, j]
            np.bitwise_xor(state, chunk, out=mixed)
            mixed *= _MULTIPLIER
            np.right_shift(mixed, np.uint64(29), out=shifted)
            mixed ^= shifted
            if j == 0:
                state, mixed = mixed, state
            else:
                np.copyto(state, mixed, where=chunk != 0)
        state *= _MIX
        np.right_shift(state, np.uint64(32), out=shifted)
        state ^= shifted
    return state


@dataclass(frozen=True)
class KeyIndex:
    """The keys of one file, hashed and sorted by hash once for every check that needs them."""

    keys: np.ndarray
    order: np.ndarray
    sorted_hashes: np.ndarray


def key_index(keys: np.ndarray) -> KeyIndex:
    """Hash and sort ``keys`` (an ``S``-dtype array)."""
    hashes = key_hashes(keys)
    order = _hash_order(hashes)
    return KeyIndex(keys=keys, order=order, sorted_hashes=hashes[order])


def _hash_order(hashes: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``hashes``.

    Sorting values is several times faster than ``argsort``, so the row number is packed into
    the low bits of each hash and the packed values are sorted; where two hashes agree on their
    high bits (rare), the packed order may not sort the full hashes, and ``argsort`` decides.
    """
    n = len(hashes)
    bits = max(1, (n - 1).bit_length())
    if bits > 32:
        return np.argsort(hashes)
    low = np.uint64((1 << bits) - 1)
    packed = hashes & ~low
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    packed &= low
    order = packed.view(np.int64)
    in_order = hashes[order]
    if n > 1 and not np.all(in_order[1:] >= in_order[:-1]):
        return np.argsort(hashes)
    return order


def _as_index(keys: KeyIndex | np.ndarray) -> KeyIndex:
    return keys if isinstance(keys, KeyIndex) else key_index(keys)


def first_duplicate(index: KeyIndex) -> tuple[int, int] | None:
    """Positions ``(first, second)`` of the key whose second occurrence comes first, or ``None``."""
    same = np.flatnonzero(index.sorted_hashes[1:] == index.sorted_hashes[:-1])
    if same.size == 0:
        return None
    # Few rows share a hash: settle them exactly, in Python.
    suspects = np.unique(np.concatenate([index.order[same], index.order[same + 1]]))
    seen: dict[bytes, int] = {}
    for position in suspects.tolist():
        key = index.keys[position].tobytes()
        if key in seen:
            return seen[key], position
        seen[key] = position
    return None


def check_unique_keys(table: Table, *, column: str) -> None:
    """Raise ``SubmissionFormatError`` at the second occurrence of a repeated key of ``table``."""
    duplicate = first_duplicate(table.key_index)
    if duplicate is None:
        return
    first, second = duplicate
    raise SubmissionFormatError(
        f"{quote_cell(table.key_text(second))} appears twice (also on line {int(table.lines[first])}); "
        "keep one row per key",
        file=table.file,
        row=int(table.lines[second]),
        column=column,
    )


def locate_keys(
    haystack: KeyIndex | np.ndarray,
    needles: KeyIndex | np.ndarray,
    *,
    missing_ok: bool = False,
) -> np.ndarray:
    """For each key of ``needles``, its position in ``haystack`` (whose keys are unique).

    A needle absent from ``haystack`` gets -1 when ``missing_ok``; otherwise it raises
    ``KeyError`` (callers check the key rule first).
    """
    hay = _as_index(haystack)
    wanted = _as_index(needles)
    if _equal_keys(hay.keys, wanted.keys):
        return np.arange(wanted.keys.shape[0])
    if len(hay.keys) == len(wanted.keys) and np.array_equal(hay.sorted_hashes, wanted.sorted_hashes):
        # The same key set in another order: pair the two hash orders directly.
        found = np.empty(len(wanted.keys), dtype=np.int64)
        found[wanted.order] = hay.order
        if not _equal_keys(np.take(hay.keys, found), wanted.keys):
            found = _locate_by_sorting(hay.keys, wanted.keys)
    elif len(hay.keys) == 0:
        found = np.full(len(wanted.keys), -1, dtype=np.int64)
    else:
        needle_hashes = np.empty_like(wanted.sorted_hashes)
        needle_hashes[wanted.order] = wanted.sorted_hashes
        slot = np.minimum(np.searchsorted(hay.sorted_hashes, needle_hashes), len(hay.keys) - 1)
        candidate = hay.order[slot]
        same_hash = hay.sorted_hashes[slot] == needle_hashes
        if np.any(same_hash & (np.take(hay.keys, candidate) != wanted.keys)):
            found = _locate_by_sorting(hay.keys, wanted.keys)
        else:
            found = np.where(same_hash, candidate, -1)
    if not missing_ok and np.any(found < 0):
        raise KeyError(wanted.keys[int(np.flatnonzero(found < 0)[0])])
    return found


def _equal_keys(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two ``S``-dtype key arrays hold the same keys in the same order."""
    if a.shape != b.shape:
        return False
    if a.dtype == b.dtype and a.dtype.itemsize % 8 == 0 and a.flags.c_contiguous and b.flags.c_contiguous:
        # Same width, zero-padded: equal keys are equal bytes, compared as words.
        return bool(np.array_equal(a.view("<u8"), b.view("<u8")))
    return bool(np.array_equal(a, b))


def _locate_by_sorting(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    order = np.argsort(haystack)
    sorted_keys = haystack[order]
    slot = np.minimum(np.searchsorted(sorted_keys, needles), len(order) - 1)
    return np.where(sorted_keys[slot] == needles, order[slot], -1)
