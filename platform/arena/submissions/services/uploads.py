"""Turning an uploaded prediction file into the plain file the scorer reads.

Uploads are hostile until proven otherwise, and never held in memory: the upload is read from
disk (or copied there) in chunks within the track's limit; a .gz or .zip is expanded into a
temporary file in bounded chunks (a bomb stops at the limit); a .gz must be a single gzip stream;
and a zip must hold exactly one regular file with a safe name.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings

from arena.core.errors import DomainError
from arena.core.uploads import UploadLimit

MB = 1024 * 1024
_CHUNK = MB
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: A prediction zip holds one file (and perhaps a folder or macOS metadata): more entries are refused
#: before the zip's directory is read into memory.
MAX_ZIP_ENTRIES = 100
GZIP_HOW_TO = "gzip -c predictions.csv > predictions.csv.gz"
ZIP_HOW_TO = "zip -j predictions.zip predictions.csv"


@dataclass(frozen=True)
class UploadOnDisk:
    """An upload as a file on disk, with its size and SHA-256 (hex)."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class PreparedPrediction:
    path: Path             # the prediction file as the scorer reads it (removed with its context)
    uploaded_name: str
    uploaded_size: int
    uploaded_sha256: str
    compression: str       # "", "gzip" or "zip"


def _too_large_message(what: str, limit: int) -> str:
    return (f"The {what} is larger than this track's limit of {limit // MB} MB. "
            "Remove extra columns or candidates, or compress it (.gz or .zip) if the track accepts that.")


def _too_large(what: str, limit: int) -> DomainError:
    return UploadLimit(limit, _too_large_message(what, limit)).error()


def prediction_upload_limit(track) -> UploadLimit:
    """The limit of a prediction file sent to ``track``, for the request that carries it."""
    limit = track.max_upload_mb * MB
    return UploadLimit(limit, _too_large_message("file", limit), field="file", what="prediction files")


def _invalid(message: str) -> DomainError:
    return DomainError(message, code="invalid_archive", details={"field": "file"})


def _temporary_file(stack: ExitStack) -> BinaryIO:
    return stack.enter_context(tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR))


def upload_on_disk(stream: BinaryIO, *, max_bytes: int, too_large: Callable[[], DomainError],
                   stack: ExitStack) -> UploadOnDisk:
    """``stream`` as a file on disk, read once in chunks within ``max_bytes``: the upload's own
    temporary file when it has one, else a temporary copy that ``stack`` removes."""
    digest, size = hashlib.sha256(), 0
    if hasattr(stream, "temporary_file_path"):
        path = Path(stream.temporary_file_path())
        if path.stat().st_size > max_bytes:
            raise too_large()
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return UploadOnDisk(path=path, size=size, sha256=digest.hexdigest())
    copy = _temporary_file(stack)
    if hasattr(stream, "seek"):
        stream.seek(0)
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large()
        digest.update(chunk)
        copy.write(chunk)
    copy.flush()
    return UploadOnDisk(path=Path(copy.name), size=size, sha256=digest.hexdigest())


def _gunzip(source_path: Path, limit: int, stack: ExitStack) -> Path:
    out = _temporary_file(stack)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    written = 0
    with source_path.open("rb") as source:
        try:
            while not decompressor.eof:
                data = decompressor.unconsumed_tail or source.read(_CHUNK)
                # max_length bounds each step's output, so a bomb stops at the limit in chunk-sized steps.
                chunk = decompressor.decompress(data, min(_CHUNK, limit + 1 - written))
                if not data and not chunk:
                    raise _invalid("The .gz file is cut short; upload the whole file again.")
                written += len(chunk)
                if written > limit:
                    raise _too_large("decompressed file", limit)
                out.write(chunk)
        except zlib.error as exc:
            raise _invalid(f"The .gz file is damaged ({exc}); compress the prediction file again: "
                           f"{GZIP_HOW_TO}") from None
        rest = decompressor.unused_data + source.read(2)
        if rest[:2] == GZIP_MAGIC:
            # Readers disagree on joined gzip streams (many stop after the first): refuse them.
            raise _invalid("The .gz file holds several gzip streams joined together (as `cat a.gz b.gz` "
                           f"makes); compress the one prediction file on its own: {GZIP_HOW_TO}")
        while rest:
            if rest.strip(b"\0"):
                raise _invalid(f"The .gz file has extra data after its end; compress the prediction file "
                               f"again: {GZIP_HOW_TO}")
            rest = source.read(_CHUNK)
    out.flush()
    return Path(out.name)


def _zip_entry_count(path: Path) -> int | None:
    """The number of entries the zip's end record announces; None when there is no end record."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - (22 + 0xFFFF)))  # the end record, and a comment of at most 64 KB
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    return int.from_bytes(tail[end + 10:end + 12], "little")  # 0xFFFF: a zip64 archive with more


def _unsafe_reason(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ":" in name:
        return "an absolute path"
    if ".." in path.parts:
        return "a path that climbs out of the archive with '..'"
    return None


def _unzip(source_path: Path, limit: int, stack: ExitStack) -> Path:
    entries = _zip_entry_count(source_path)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        raise _invalid(f"The .zip file holds more than {MAX_ZIP_ENTRIES} entries; it must hold exactly one "
                       f"prediction file: {ZIP_HOW_TO}")
    try:
        archive = stack.enter_context(zipfile.ZipFile(source_path))
        infos = archive.infolist()
    except zipfile.BadZipFile:
        raise _invalid(f"The .zip file is damaged; create it again: {ZIP_HOW_TO}") from None
    for info in infos:
        # Names are checked before anything is skipped: '..\\x.csv' must not pass as a hidden file.
        if reason := _unsafe_reason(info.filename):
            raise _invalid(f"The .zip file names its member '{info.filename}' with {reason}; zip the "
                           f"prediction file on its own, without folders: {ZIP_HOW_TO}")
    members = []
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if not info.filename.endswith(("/", "\\")) and name.parts[:1] != ("__MACOSX",) \
                and not name.name.startswith("."):
            members.append(info)
    if len(members) != 1:
        raise _invalid(f"The .zip file holds {len(members)} files; it must hold exactly one prediction file: "
                       f"{ZIP_HOW_TO}")
    info = members[0]
    if info.flag_bits & 0x1:
        raise _invalid("The .zip file is encrypted; upload it without a password.")
    if info.file_size > limit:
        raise _too_large("decompressed file", limit)
    out = _temporary_file(stack)
    try:
        with archive.open(info) as member:
            # The declared size can lie: read no more than the limit regardless.
            written = 0
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise _too_large("decompressed file", limit)
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise _invalid(f"The .zip file could not be read ({exc}); create it again with a standard tool: "
                       f"{ZIP_HOW_TO}") from None
    out.flush()
    return Path(out.name)


@contextmanager
def prepared_prediction(*, name: str, stream: BinaryIO, max_bytes: int,
                        allow_compressed: bool) -> Iterator[PreparedPrediction]:
    """The upload read within ``max_bytes``, a .gz or .zip expanded (also within ``max_bytes``), as a
    file on disk; its temporary files are removed when the context ends."""
    with ExitStack() as stack:
        upload = upload_on_disk(stream, max_bytes=max_bytes, too_large=lambda: _too_large("file", max_bytes),
                                stack=stack)
        if not upload.size:
            raise DomainError("The uploaded file is empty; choose the prediction file and upload it again.",
                              code="empty_file", details={"field": "file"})
        with upload.path.open("rb") as handle:
            head = handle.read(4)
        compression = "gzip" if head[:2] == GZIP_MAGIC else "zip" if head in ZIP_MAGICS else ""
        if compression and not allow_compressed:
            raise DomainError(
                "This track accepts only uncompressed prediction files; upload the plain CSV.",
                code="compression_not_allowed", status=415, details={"field": "file"},
            )
        expand = {"gzip": _gunzip, "zip": _unzip}.get(compression)
        path = expand(upload.path, max_bytes, stack) if expand else upload.path
        yield PreparedPrediction(path=path, uploaded_name=name[:255], uploaded_size=upload.size,
                                 uploaded_sha256=upload.sha256, compression=compression)

