"""Reading request bodies within limits: files stream to temporary files, never to memory, and a
request stops being read as soon as it passes its limit.

Every request reads its files through ``BoundedUploadHandler`` (``FILE_UPLOAD_HANDLERS``) with the
site's limit: ``ARENA_MAX_REQUEST_MB``, or ``ARENA_MAX_ADMIN_UPLOAD_MB`` for staff in the admin. A
view that takes larger files (a submission: the track's limits) first makes the checks that need no
body (who is asking, may they submit here), then replaces the handler with one of its own limits
(``limit_uploads``). The CSRF token of a form travels in its body, so it is checked after that: a
Django view is ``csrf_exempt`` and checks it in an inner ``csrf_protect`` function; an API view sets
the limits before authentication, as a function that makes those checks when the body is first read.

Only Content-Length is trusted before reading: a WSGI server never passes on more than it
announces, so a body over the limit is refused before its first byte is read, and a file over its
field's limit as soon as the chunk that crosses it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.urls import reverse

from arena.core.errors import DomainError

MB = 1024 * 1024
#: The form's other fields and the multipart framing travel with the file: a request may be this much larger.
UPLOAD_MARGIN = MB


class UploadTooLarge(DomainError, RequestDataTooBig):
    """A request body over its limit: 413 with the message from the API and the submission pages.

    Elsewhere Django answers it as a request it could not read (400), like any RequestDataTooBig.
    """

    status = 413
    code = "file_too_large"


@dataclass(frozen=True)
class UploadLimit:
    """The largest file a form field takes, and the one-line refusal: what, the limit, how to fix it."""

    max_bytes: int
    message: str
    field: str = "file"
    code: str = "file_too_large"
    #: What the field takes, in the plural ("prediction files"), for a body too large for any field.
    what: str = "files"

    def error(self) -> UploadTooLarge:
        return UploadTooLarge(self.message, code=self.code,
                              details={"field": self.field, "limit_bytes": self.max_bytes})


#: Limits by form field name, or a function that gives them (see ``limit_uploads``).
Limits = Mapping[str, UploadLimit] | Callable[[], Mapping[str, UploadLimit]]
NO_FILES = UploadLimit(0, "This page takes no files; send the form without one.", code="request_too_large")


def site_upload_limit(request) -> UploadLimit:
    """The limit of a request to a page that sets none of its own."""
    user = getattr(request, "user", None)
    in_admin = request.path.startswith(reverse("admin:index")) and getattr(user, "is_staff", False)
    megabytes = settings.ARENA_MAX_ADMIN_UPLOAD_MB if in_admin else settings.ARENA_MAX_REQUEST_MB
    return UploadLimit(
        max_bytes=megabytes * MB, code="request_too_large",
        message=f"The upload is larger than the {megabytes} MB this page accepts; send a smaller file.",
    )


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Streams each file of a multipart body to a temporary file, within its limit.

    ``limits`` maps form field names to their limits (or is a function that gives them, see
    ``limit_uploads``); a file in another field is skipped. Without ``limits`` (as Django builds it
    from the settings) every file field has the site's limit. The body may carry one file of the
    largest limit, plus ``UPLOAD_MARGIN``.
    """

    chunk_size = 256 * 1024

    def __init__(self, request=None, limits: Limits | None = None) -> None:
        super().__init__(request)
        self.limits = limits
        self.default: UploadLimit | None = None  # the limit of a field not in `limits`
        self.largest = self.limit = NO_FILES
        self.received = 0  # bytes of every file of the body so far

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self.limits is None:
            self.default, self.limits = site_upload_limit(self.request), {}
        elif callable(self.limits):
            self.limits = self.limits()
        allowed = [*self.limits.values(), *([self.default] if self.default else [])]
        self.largest = max(allowed, key=lambda limit: limit.max_bytes, default=NO_FILES)
        if content_length and content_length > self.largest.max_bytes + UPLOAD_MARGIN:
            # Refused before a byte of the body is read, so before knowing which field the file is in.
            if len(allowed) == 1:
                raise self.largest.error()
            takes = " and ".join(f"{limit.what} of at most {limit.max_bytes // MB} MB" for limit in allowed)
            raise UploadTooLarge(f"The upload is {content_length / MB:.0f} MB; this track takes {takes}. "
                                 "Send a smaller file.", details={"limit_bytes": self.largest.max_bytes})
        return None

    def new_file(self, field_name, *args, **kwargs):
        limit = self.limits.get(field_name, self.default)
        if limit is None:
            # Forget the previous file first: on SkipFile Django closes (and so deletes) `self.file`.
            self.__dict__.pop("file", None)
            raise SkipFile()
        self.limit = limit
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if start + len(raw_data) > self.limit.max_bytes or self.received > self.largest.max_bytes:
            self.upload_interrupted()  # closes and removes the partial file
            raise self.limit.error()
        return super().receive_data_chunk(raw_data, start)


def limit_uploads(request, limits: Limits) -> None:
    """Read the files of ``request`` (Django's request) within ``limits``, before anything has read its
    body. ``limits`` may be a function, called just before the body's first byte is read: it may
    raise to refuse the request with its body unread."""
    request.upload_handlers = [BoundedUploadHandler(request, limits=limits)]
