"""Turning an uploaded prediction file into the plain text the scorer reads.

Uploads are hostile until proven otherwise: sizes are checked while reading, compressed
files are expanded in bounded chunks (a zip bomb stops at the limit), and a zip must hold
exactly one regular file with a safe name.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from arena.core.errors import DomainError

MB = 1024 * 1024
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class PreparedPrediction:
    data: bytes            # the prediction file as the scorer reads it
    uploaded_name: str
    uploaded_size: int
    uploaded_sha256: str
    compression: str       # "", "gzip" or "zip"


def _too_large(what: str, limit: int) -> DomainError:
    return DomainError(
        f"The {what} is larger than this track's limit of {limit // MB} MB. "
        "Remove extra columns or candidates, or compress it (.gz or .zip) if the track accepts that.",
        code="file_too_large", status=413, details={"field": "file", "limit_bytes": limit},
    )


def _read_capped(stream: BinaryIO, limit: int, what: str) -> bytes:
    buffer = io.BytesIO()
    while chunk := stream.read(_CHUNK):
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise _too_large(what, limit)
    return buffer.getvalue()


def _gunzip(data: bytes, limit: int) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = data
    try:
        while pending and not decompressor.eof:
            # max_length bounds the output of each step, so a bomb stops at the limit.
            out += decompressor.decompress(pending, limit + 1 - len(out))
            if len(out) > limit:
                raise _too_large("decompressed file", limit)
            pending = decompressor.unconsumed_tail
    except zlib.error as exc:
        raise DomainError(
            f"The .gz file is damaged ({exc}); compress the prediction file again with gzip.",
            code="invalid_archive", details={"field": "file"},
        ) from None
    if not decompressor.eof:
        raise DomainError("The .gz file is cut short; upload the whole file again.",
                          code="invalid_archive", details={"field": "file"})
    return bytes(out)


def _unzip(data: bytes, limit: int) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [
            info for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
            and not PurePosixPath(info.filename).name.startswith(".")
        ]
    except zipfile.BadZipFile:
        raise DomainError("The .zip file is damaged; create it again.", code="invalid_archive",
                          details={"field": "file"}) from None
    if len(members) != 1:
        raise DomainError(
            f"The .zip file holds {len(members)} files; it must hold exactly one prediction file.",
            code="invalid_archive", details={"field": "file"},
        )
    info = members[0]
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in info.filename:
        raise DomainError(
            f"The .zip file names its member '{info.filename}', which is not a plain relative file name.",
            code="invalid_archive", details={"field": "file"},
        )
    if info.flag_bits & 0x1:
        raise DomainError("The .zip file is encrypted; upload it without a password.",
                          code="invalid_archive", details={"field": "file"})
    if info.file_size > limit:
        raise _too_large("decompressed file", limit)
    try:
        with archive.open(info) as member:
            # The declared size can lie: read no more than the limit regardless.
            return _read_capped(member, limit, "decompressed file")
    except (zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise DomainError(f"The .zip file could not be read ({exc}); create it again with a standard tool.",
                          code="invalid_archive", details={"field": "file"}) from None


def prepare_prediction(*, name: str, stream: BinaryIO, max_bytes: int, allow_compressed: bool) -> PreparedPrediction:
    """Read an upload within ``max_bytes`` and expand .gz/.zip (also within ``max_bytes``)."""
    raw = _read_capped(stream, max_bytes, "file")
    if not raw:
        raise DomainError("The uploaded file is empty; choose the prediction file and upload it again.",
                          code="empty_file", details={"field": "file"})
    compression = "gzip" if raw[:2] == b"\x1f\x8b" else "zip" if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06") else ""
    if compression and not allow_compressed:
        raise DomainError(
            "This track accepts only uncompressed prediction files; upload the plain CSV.",
            code="compression_not_allowed", status=415, details={"field": "file"},
        )
    data = _gunzip(raw, max_bytes) if compression == "gzip" else _unzip(raw, max_bytes) if compression else raw
    return PreparedPrediction(
        data=data, uploaded_name=name[:255], uploaded_size=len(raw),
        uploaded_sha256=hashlib.sha256(raw).hexdigest(), compression=compression,
    )
