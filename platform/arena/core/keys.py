"""Storage keys that cannot be guessed, and content digests."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import BinaryIO

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default: str = "file") -> str:
    """The last path component of ``name`` with anything but letters, digits, ``._-`` replaced."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")
    return cleaned[:120] or default


def private_key(prefix: str, filename: str) -> str:
    """``prefix/<32 random hex>/<safe filename>``: unguessable, and keeps the original name."""
    return f"{prefix}/{secrets.token_hex(16)}/{safe_filename(filename)}"


def sha256_of(stream: BinaryIO, *, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """(hex digest, size in bytes) of a binary stream, read from its start."""
    digest = hashlib.sha256()
    size = 0
    if hasattr(stream, "seek"):
        stream.seek(0)
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    if hasattr(stream, "seek"):
        stream.seek(0)
    return digest.hexdigest(), size
