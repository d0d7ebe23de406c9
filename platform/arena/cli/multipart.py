"""A ``multipart/form-data`` body streamed from disk, reporting the file's bytes as they are sent."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


class MultipartFile(io.RawIOBase):
    """A readable, rewindable body: form fields, then one file part, read lazily from ``path``.

    ``len()`` is the exact body size, so the request carries a Content-Length and no chunking.
    ``on_file_bytes`` is called with the number of file bytes each read returns (negative when a
    retried request rewinds the body).
    """

    def __init__(self, fields: Mapping[str, str], *, file_field: str, path: Path,
                 on_file_bytes: Callable[[int], None] = lambda n: None) -> None:
        super().__init__()
        self.boundary = secrets.token_hex(16)
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
            + value.encode() + b"\r\n"
            for name, value in fields.items()
        )
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(file_field)}"; '
                 f'filename="{_quoted(path.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
        self._head, self._tail = head, f"\r\n--{self.boundary}--\r\n".encode()
        self._path = path
        self._file_size = path.stat().st_size
        self._on_file_bytes = on_file_bytes
        self._file = None
        self._position = 0
        self._file_sent = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self._file_size + len(self._tail)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Only rewinding to the start (for a retried request) and seeking to the end are supported."""
        if whence == io.SEEK_END and offset == 0:
            self._position = len(self)
        elif whence == io.SEEK_SET and offset == 0:
            self._position = 0
            if self._file_sent:
                self._on_file_bytes(-self._file_sent)
                self._file_sent = 0
        else:
            raise io.UnsupportedOperation("MultipartFile rewinds to the start only")
        return self._position

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = len(self) - self._position
        out = bytearray()
        while size > 0 and self._position < len(self):
            chunk = self._read_at(self._position, size)
            out += chunk
            self._position += len(chunk)
            size -= len(chunk)
        return bytes(out)

    def _read_at(self, position: int, size: int) -> bytes:
        head, file_end = len(self._head), len(self._head) + self._file_size
        if position < head:
            return self._head[position:position + size]
        if position < file_end:
            if self._file is None:
                self._file = self._path.open("rb")
            self._file.seek(position - head)
            chunk = self._file.read(min(size, file_end - position))
            if not chunk:
                raise OSError(f"{self._path} became shorter while it was being sent")
            self._file_sent += len(chunk)
            self._on_file_bytes(len(chunk))
            return chunk
        start = position - file_end
        return self._tail[start:start + size]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()
