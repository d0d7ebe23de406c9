"""Copying a sandbox's /output out of the engine into a host folder, safely.

The engine hands /output over as a tar stream. Only regular files and folders are copied:
links, devices and anything whose path would leave the destination are skipped, and the copy
stops at a byte budget whatever the stream claims.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PAGE_BYTES = 4096
_CHUNK = 1 << 20


@dataclass
class CopiedOutput:
    """What `copy_output` wrote: file paths relative to the destination (POSIX, sorted), the
    bytes copied, the tmpfs pages those files occupy, how many entries (files, folders and
    others) the folder held, and what it refused to copy."""

    files: list[str] = field(default_factory=list)
    bytes_copied: int = 0
    pages_used: int = 0
    entries: int = 0
    skipped: list[str] = field(default_factory=list)
    cut: bool = False


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the engine's archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _relative(name: str, root: str) -> PurePosixPath | None:
    """The member's path below the archived folder `root`, or None when it is the folder
    itself or would leave it."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    parts = path.parts[1:] if path.parts and path.parts[0] == root else None
    if not parts:
        return None
    return PurePosixPath(*parts)


def copy_output(chunks: Iterable[bytes], destination: Path, *, max_bytes: int) -> CopiedOutput:
    """Extract the tar stream `chunks` of a folder (members under `<folder>/`) into
    `destination`, copying at most `max_bytes` bytes of file content.

    Regular files and folders only; every other member is listed in `skipped`. Files that
    would pass the budget are cut short and `cut` is set.
    """
    destination.mkdir(parents=True, exist_ok=True)
    copied = CopiedOutput()
    with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks), _CHUNK), mode="r|") as tar:
        root: str | None = None
        for member in tar:
            if root is None:
                root = PurePosixPath(member.name).parts[0] if member.name else ""
            relative = _relative(member.name, root)
            if relative is None:
                if member.name.rstrip("/") != root:
                    copied.skipped.append(member.name)
                continue
            copied.entries += 1
            target = destination.joinpath(*relative.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                copied.skipped.append(str(relative))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            budget = max_bytes - copied.bytes_copied
            written = _copy_file(tar.extractfile(member), target, min(member.size, budget))
            copied.bytes_copied += written
            copied.pages_used += -(-member.size // PAGE_BYTES)
            copied.cut = copied.cut or written < member.size
            copied.files.append(relative.as_posix())
    copied.files.sort()
    return copied


def _copy_file(source: io.BufferedReader | None, target: Path, limit: int) -> int:
    written = 0
    with target.open("wb") as out:
        while source is not None and written < limit:
            chunk = source.read(min(_CHUNK, limit - written))
            if not chunk:
                break
            out.write(chunk)
            written += len(chunk)
    return written
