"""Reading a source (a path or raw bytes) into bytes."""

from __future__ import annotations

import os

from scorers.errors import ScorerError

__all__ = ["read_source"]


def read_source(source: str | os.PathLike | bytes | bytearray | memoryview, *, file: str) -> bytes:
    """The raw bytes of ``source``: bytes are returned as they are, anything else is a path.

    Raises ``ScorerError`` ("cannot read prediction file 'x': No such file or directory") when the
    path cannot be read.
    """
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ScorerError(f"cannot read {file} file '{os.fspath(source)}': {reason}") from None
