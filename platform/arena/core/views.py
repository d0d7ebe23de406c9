"""The local-storage download view: signed, expiring links, with HTTP range requests."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator

from django.core import signing
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from arena.core.storage import key_from_token

_CHUNK = 256 * 1024
_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The requested range lies wholly outside the file."""


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions asked for by a ``Range`` header.

    None means "send the whole file": no header, a malformed one, or several ranges
    (RFC 9110 lets a server ignore any Range header it does not support).
    Raises ``Unsatisfiable`` for a syntactically valid single range that selects no byte.
    """
    if not header:
        return None
    match = _SINGLE_RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    if last != "" and int(last) < start:
        return None  # invalid range-spec: ignored, as the RFC says
    if start >= size:
        raise Unsatisfiable
    return start, size - 1 if last == "" else min(int(last), size - 1)


def _stream(key: str, start: int, length: int) -> Iterator[bytes]:
    with default_storage.open(key, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


@require_http_methods(["GET", "HEAD"])
def signed_file(request, token: str):
    """Serve one stored file, or the single byte range asked for, to whoever holds a live link."""
    try:
        key = key_from_token(token)
    except signing.SignatureExpired:
        return HttpResponseForbidden("This download link has expired; ask for a new one.")
    except signing.BadSignature:
        raise Http404("No such file.") from None
    try:
        size = default_storage.size(key)
    except FileNotFoundError:
        raise Http404("No such file.") from None

    # A resumed download that sends If-Range cannot be validated here: send the whole file.
    header = None if "If-Range" in request.headers else request.headers.get("Range")
    try:
        byte_range = requested_range(header, size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    body = iter(()) if request.method == "HEAD" else _stream(key, start, length)
    response = StreamingHttpResponse(body, status=206 if byte_range else 200)
    filename = key.rsplit("/", 1)[-1]
    response["Content-Type"] = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response["Content-Length"] = str(length)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
