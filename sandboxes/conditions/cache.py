"""Folders computed once per host and shared by the runs of several worker processes.

A `FolderCache` keeps, under its root::

    entries/<key>/data/        the folder a caller gets (what a model sees at /input)
    entries/<key>/meta.json    its size and description; its mtime is the entry's last use
    tmp/<key>.<suffix>/        entries being filled, and evicted ones being deleted
    locks/<key>.fill           held exclusively while `<key>` is being filled
    locks/<key>.use            held shared while a caller uses `<key>`, exclusively to evict it

An entry is filled in a temp folder and renamed into place, so `entries/` only ever holds
complete entries; a temp folder whose fill lock is free was left by a crash and is swept. Only
one process fills a key (the others wait on its fill lock, then reuse the entry). The total
size of the entries is kept under `max_bytes` by evicting the least recently used ones, but
never an entry a caller holds (its shared use lock makes the evictor's non-blocking exclusive
lock fail). Lock files are never deleted: deleting a lock file others may have open would let
two processes hold "the" lock at once.

Locks are `fcntl.flock` locks, so the cache is safe between the processes of one host (and
between threads holding separate `pinned` contexts); it is not meant for a network file system.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ENTRIES = "entries"
TEMP = "tmp"
LOCKS = "locks"
DATA = "data"
META = "meta.json"

# Keys name files: letters, digits, `_` and `-` only (`.` separates a temp folder's suffix).
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class CacheEntry:
    """A complete entry: its `key`, its data `folder`, the bytes of its files and when it was
    last used (seconds since the epoch)."""

    key: str
    folder: Path
    size_bytes: int
    last_used: float


class FolderCache:
    """Folders by key under `root`, filled once per host, at most `max_bytes` in all (except
    while the entries in use alone exceed it). See the module docstring for the layout.

    Give each cache its own root: the bound covers every entry under it. Every process of the
    host that uses a root must pass the same `max_bytes`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes!r}")
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        for name in (ENTRIES, TEMP, LOCKS):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def pinned(
        self,
        key: str,
        fill: Callable[[Path], None],
        *,
        description: Mapping[str, object] | None = None,
    ) -> Iterator[Path]:
        """Yield the data folder of `key`, calling `fill(folder)` on a fresh, empty folder first
        when the entry is missing; the entry cannot be evicted until the block ends.

        Concurrent callers of the same key fill it once: the others wait, then reuse it. When
        `fill` raises, nothing is kept and the exception propagates (the next caller tries
        again). Filled folders are made readable by all: folders 0755, files 0644.
        """
        check_key(key)
        use = self._open_lock(key, "use")
        try:
            # Shared: blocks only while an evictor removes this key.
            fcntl.flock(use, fcntl.LOCK_SH)
            if not self._entry(key).is_dir():
                self._fill(key, fill, description or {})
            self._touch(key)
            self.evict()
            yield self._entry(key) / DATA
            self._touch(key)
        finally:
            os.close(use)

    def entries(self) -> list[CacheEntry]:
        """The complete entries, least recently used first."""
        found = []
        for entry in (self.root / ENTRIES).iterdir():
            try:
                meta = entry / META
                size = int(json.loads(meta.read_text(encoding="utf-8"))["size_bytes"])
                found.append(CacheEntry(entry.name, entry / DATA, size, meta.stat().st_mtime))
            except (OSError, ValueError, KeyError):
                continue  # evicted meanwhile
        return sorted(found, key=lambda e: (e.last_used, e.key))

    def size_bytes(self) -> int:
        """The bytes of all complete entries."""
        return sum(entry.size_bytes for entry in self.entries())

    def evict(self) -> list[str]:
        """Remove least recently used entries not in use until the total is at most
        `max_bytes`; sweep stale temp folders first. Return the keys removed."""
        self.sweep()
        entries = self.entries()
        total = sum(entry.size_bytes for entry in entries)
        removed = []
        for entry in entries:
            if total <= self.max_bytes:
                break
            if self._evict(entry.key):
                total -= entry.size_bytes
                removed.append(entry.key)
        return removed

    def sweep(self) -> int:
        """Delete the temp folders no live fill owns (left by a crash, or by an eviction cut
        short); return how many went."""
        swept = 0
        for temp in (self.root / TEMP).iterdir():
            key = temp.name.partition(".")[0]
            if not _KEY.match(key):
                continue
            fill = self._open_lock(key, "fill")
            try:
                try:
                    fcntl.flock(fill, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # being filled right now
                shutil.rmtree(temp, ignore_errors=True)
                swept += 1
            finally:
                os.close(fill)
        return swept

    def _entry(self, key: str) -> Path:
        return self.root / ENTRIES / key

    def _open_lock(self, key: str, kind: str) -> int:
        return os.open(self.root / LOCKS / f"{key}.{kind}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def _touch(self, key: str) -> None:
        # An explicit time: the kernel's own file times advance only at each clock tick.
        now = time.time_ns()
        with contextlib.suppress(FileNotFoundError):
            os.utime(self._entry(key) / META, ns=(now, now))

    def _fill(self, key: str, fill: Callable[[Path], None], description: Mapping[str, object]) -> None:
        lock = self._open_lock(key, "fill")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._entry(key).is_dir():
                return  # another process filled it while this one waited
            for stale in (self.root / TEMP).glob(f"{key}.*"):
                shutil.rmtree(stale, ignore_errors=True)
            temp = self.root / TEMP / f"{key}.{uuid.uuid4().hex[:12]}"
            temp.mkdir()
            try:
                data = temp / DATA
                data.mkdir()
                fill(data)
                size = make_readable(data)
                meta = {"key": key, "size_bytes": size, "created": time.time(), **description}
                (temp / META).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
                temp.chmod(0o755)
                os.rename(temp, self._entry(key))
            except BaseException:
                shutil.rmtree(temp, ignore_errors=True)
                raise
        finally:
            os.close(lock)

    def _evict(self, key: str) -> bool:
        use = self._open_lock(key, "use")
        try:
            try:
                fcntl.flock(use, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # in use
            entry = self._entry(key)
            if not entry.is_dir():
                return False  # another evictor was first
            trash = self.root / TEMP / f"{key}.evicted-{uuid.uuid4().hex[:12]}"
            os.rename(entry, trash)
        finally:
            os.close(use)
        shutil.rmtree(trash, ignore_errors=True)
        return True


def check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValueError(f"a cache key is 1 to 128 letters, digits, '_' or '-', not {key!r}")


def make_readable(folder: Path) -> int:
    """Make `folder` and everything in it readable by any user (folders 0755, files 0644;
    links are left alone) and return the bytes of its files."""
    size = 0
    folder.chmod(0o755)
    for parent, dirs, files in os.walk(folder):
        for name in dirs:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
        for name in files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
                size += info.st_size
    return size


def digest_key(*parts: str | int) -> str:
    """A cache key for `parts` (order matters): 32 hex digits of their SHA-256.

    >>> digest_key("abc", "blur:2", 7, "")
    'aa4a210140866ab7e8f1f10d5bc2e6bf'
    """
    text = json.dumps([str(part) for part in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ConditionCache(FolderCache):
    """Corrupted copies of clean inputs, one entry per (inputs digest, condition, seed, noise
    bank digest); `sandboxes.conditions.prepare_condition` fills and pins them."""

    @staticmethod
    def key_for(inputs_digest: str, condition_name: str, seed: int, noise_bank_digest: str = "") -> str:
        """The entry key of a condition; `condition_name` is the canonical spec
        (`parse_condition(spec).name`)."""
        return digest_key("condition", inputs_digest, condition_name, int(seed), noise_bank_digest)


class InputCache(FolderCache):
    """Clean inputs unpacked once per host per inputs digest, shared by the runs that use them."""

    @staticmethod
    def key_for(inputs_digest: str) -> str:
        return digest_key("inputs", inputs_digest)

    @contextlib.contextmanager
    def unpacked(self, inputs_digest: str, unpack: Callable[[Path], None]) -> Iterator[Path]:
        """Yield the folder of the inputs whose digest is `inputs_digest`, calling
        `unpack(folder)` on a fresh, empty folder first when this host has none; the folder
        stays until the block ends. `inputs_digest` is the caller's (say, the SHA-256 of the
        organiser's archive): equal digests must mean equal inputs."""
        key = self.key_for(inputs_digest)
        with self.pinned(key, unpack, description={"inputs_digest": inputs_digest}) as folder:
            yield folder
