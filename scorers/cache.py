"""A per-process cache of parsed reference tables.

A worker scores many submissions against the same reference file, so the parsed reference (with
its key index) is kept, keyed by the file's content digest, the track and the options. Entries are
evicted least-recently-used once their total size passes a byte budget
(``SCORERS_GOLD_CACHE_MB``, default 256; 0 turns the cache off). Cached arrays are read-only.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from scorers.parsing.table import Table

__all__ = ["TableCache", "content_digest", "gold_cache"]


def content_digest(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).digest()


def _table_bytes(table: Table) -> int:
    index = table.key_index
    arrays = [table.keys, table.lines, index.order, index.sorted_hashes, *table.columns.values()]
    return sum(array.nbytes for array in arrays)


def _freeze(table: Table) -> None:
    for array in (table.keys, table.lines, *table.columns.values()):
        array.setflags(write=False)


class TableCache:
    """A thread-safe LRU of ``Table`` objects bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Table, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_or_parse(self, key: Hashable, parse: Callable[[], Table]) -> Table:
        """The cached table for ``key``, or ``parse()``'s result (then cached if it fits)."""
        if self.max_bytes <= 0:
            return parse()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
        table = parse()
        size = _table_bytes(table)  # also builds the key index, which is cached with the table
        if size > self.max_bytes:
            return table
        _freeze(table)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (table, size)
                self._size += size
            while self._size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped
        return table

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._size = 0


def _budget() -> int:
    try:
        return int(float(os.environ.get("SCORERS_GOLD_CACHE_MB", "256")) * 2**20)
    except ValueError:
        return 256 * 2**20


gold_cache = TableCache(_budget())
