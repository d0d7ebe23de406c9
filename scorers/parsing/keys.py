"""Key checks and alignment on fixed-width byte-string key arrays, vectorised.

Keys are hashed to 64-bit integers (sorting integers is several times faster than sorting strings);
every match found through a hash is confirmed on the keys themselves, and a hash collision falls
back to sorting the keys directly, so results never depend on the hash.
"""

from __future__ import annotations

import numpy as np

from scorers.errors import SubmissionFormatError
from scorers.parsing.table import Table

__all__ = ["key_hashes", "check_unique_keys", "locate_keys"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def key_hashes(keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every key of an ``S``-dtype array (equal keys, equal hashes)."""
    width = keys.dtype.itemsize
    n = keys.shape[0]
    if width == 0 or n == 0:
        return np.zeros(n, dtype=np.uint64)
    words = -(-width // 8)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :width] = np.ascontiguousarray(keys).view(np.uint8).reshape(n, width)
    chunks = padded.view(np.uint64)
    state = np.full(n, np.uint64(width), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(words):
            state ^= chunks[:, j]
            state *= _MULTIPLIER
            state ^= state >> np.uint64(29)
        state *= _MIX
        state ^= state >> np.uint64(32)
    return state


def _first_duplicate(keys: np.ndarray) -> tuple[int, int] | None:
    """Positions ``(first, second)`` of the earliest-repeated key, or ``None``."""
    if keys.shape[0] < 2:
        return None
    hashes = key_hashes(keys)
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    same = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1])
    if same.size == 0:
        return None
    if np.any(keys[order[same]] != keys[order[same + 1]]):
        order = np.argsort(keys, kind="stable")  # a hash collision: decide on the keys
        same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
        if same.size == 0:
            return None
    second = order[same + 1]
    pick = int(np.argmin(second))
    return int(order[same[pick]]), int(second[pick])


def check_unique_keys(table: Table, *, column: str) -> None:
    """Raise ``SubmissionFormatError`` at the second occurrence of a repeated key."""
    duplicate = _first_duplicate(table.keys)
    if duplicate is None:
        return
    first, second = duplicate
    raise SubmissionFormatError(
        f"{table.key_text(second)!r} appears twice (also on line {int(table.lines[first])}); "
        "keep one row per key",
        file=table.file,
        row=int(table.lines[second]),
        column=column,
    )


def locate_keys(haystack: np.ndarray, needles: np.ndarray, *, missing_ok: bool = False) -> np.ndarray:
    """For each key of ``needles``, its position in ``haystack`` (whose keys are unique).

    A needle absent from ``haystack`` gets -1 when ``missing_ok``; otherwise it raises
    ``KeyError`` (callers check the key rule first).
    """
    if haystack.shape == needles.shape and np.array_equal(haystack, needles):
        return np.arange(needles.shape[0])
    hay_hashes = key_hashes(haystack)
    needle_hashes = key_hashes(needles)
    order = np.argsort(hay_hashes)
    sorted_hashes = hay_hashes[order]
    slot = np.minimum(np.searchsorted(sorted_hashes, needle_hashes), max(len(order) - 1, 0))
    if len(order) == 0:
        found = np.full(needles.shape[0], -1, dtype=np.int64)
    else:
        candidate = order[slot]
        same_hash = sorted_hashes[slot] == needle_hashes
        if np.any(same_hash & (haystack[candidate] != needles)):
            found = _locate_by_sorting(haystack, needles)
        else:
            found = np.where(same_hash, candidate, -1)
    if not missing_ok and np.any(found < 0):
        raise KeyError(needles[int(np.flatnonzero(found < 0)[0])])
    return found


def _locate_by_sorting(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    order = np.argsort(haystack)
    sorted_keys = haystack[order]
    slot = np.minimum(np.searchsorted(sorted_keys, needles), len(order) - 1)
    return np.where(sorted_keys[slot] == needles, order[slot], -1)
