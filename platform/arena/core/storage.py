"""Signed, expiring download links for whichever storage backs the site.

Local storage: nothing under MEDIA_ROOT is served directly. ``url()`` returns a link to
the ``signed-file`` view whose token is signed with the site's secret and binds the
storage key and an expiry time, like an S3 presigned URL.

S3 (django-storages): a presigned GET URL from boto3, valid for the given number of seconds.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.urls import reverse
from django.utils.http import content_disposition_header

SALT = "arena.signed-file"


def file_token(key: str, *, seconds: int) -> str:
    """A token granting ``key`` until ``seconds`` from now; tampering breaks its signature."""
    return signing.dumps({"k": key, "e": int(time.time()) + int(seconds)}, salt=SALT, compress=True)


def key_from_token(token: str) -> str:
    """The storage key a token grants.

    Raises ``signing.SignatureExpired`` once the token's expiry has passed and
    ``signing.BadSignature`` for anything not signed by this site.
    """
    payload = signing.loads(token, salt=SALT)
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), str) or "e" not in payload:
        raise signing.BadSignature("malformed file token")
    if time.time() > float(payload["e"]):
        raise signing.SignatureExpired("file token expired")
    return payload["k"]


class SignedUrlFileSystemStorage(FileSystemStorage):
    """File-system storage whose URLs are signed links to the ``signed-file`` view."""

    def url(self, name: str | None, expire: int | None = None) -> str:
        seconds = settings.ARENA_DOWNLOAD_URL_SECONDS if expire is None else expire
        return reverse("signed-file", args=[file_token(name or "", seconds=seconds)])


def _is_s3(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def signed_download_url(key: str, *, seconds: int, filename: str | None = None,
                        storage: Storage | None = None) -> str:
    """A URL that downloads ``key`` for ``seconds`` and then stops working.

    Local storage gives a site-relative path (``/files/<token>/``); S3 gives an absolute
    presigned URL that also names the file for the browser's "save as".
    """
    storage = storage or default_storage
    if isinstance(storage, SignedUrlFileSystemStorage):
        return storage.url(key, expire=seconds)
    if _is_s3(storage):
        parameters = {}
        if filename:
            parameters["ResponseContentDisposition"] = content_disposition_header(True, filename)
        return storage.url(key, parameters=parameters, expire=seconds)
    raise TypeError(f"{type(storage).__name__} cannot issue expiring download URLs")


def stored_digest(key: str, *, storage: Storage | None = None, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of a stored object, read as a stream.

    On S3 the object's body is streamed from boto3: django-storages' file object would
    first copy the whole object into memory.
    """
    storage = storage or default_storage
    digest, size = hashlib.sha256(), 0
    if _is_s3(storage):
        body = storage.bucket.Object(_s3_object_key(storage, key)).get()["Body"]
        chunks = body.iter_chunks(chunk_size)
    else:
        body = storage.open(key, "rb")
        chunks = iter(lambda: body.read(chunk_size), b"")
    try:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
    finally:
        body.close()
    return digest.hexdigest(), size


def _s3_object_key(storage: Storage, key: str) -> str:
    location = getattr(storage, "location", "")
    return f"{location.rstrip('/')}/{key}" if location else key


def presigned_upload(key: str, *, max_bytes: int, seconds: int,
                     storage: Storage | None = None) -> tuple[str, dict[str, str]]:
    """(url, form fields) of an S3 presigned POST that stores one file of at most ``max_bytes`` at ``key``.

    Raises TypeError when the storage is not S3.
    """
    storage = storage or default_storage
    if not _is_s3(storage):
        raise TypeError(f"{type(storage).__name__} does not take direct uploads")
    post = storage.connection.meta.client.generate_presigned_post(
        Bucket=storage.bucket_name, Key=_s3_object_key(storage, key),
        Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=seconds,
    )
    return post["url"], post["fields"]


def supports_direct_upload(storage: Storage | None = None) -> bool:
    return _is_s3(storage or default_storage)


@dataclass(frozen=True)
class UploadTicket:
    """Where and how a client posts one file straight to the bucket (an S3 presigned POST)."""

    url: str
    fields: dict[str, str]
    key: str
    expires_at: datetime
    max_bytes: int


class StoredObjectChanged(Exception):
    """The stored object was written again after the time a reader pinned it to."""


@dataclass(frozen=True)
class StoredObject:
    """What the storage says about one object, without reading it."""

    size: int
    head: bytes


def stored_object(key: str, *, head_bytes: int = 512, storage: Storage | None = None) -> StoredObject | None:
    """The size and the first ``head_bytes`` bytes of a stored object, or None when there is none.

    On S3 this is a HEAD and one ranged GET: nothing else of the object is read.
    """
    storage = storage or default_storage
    if _is_s3(storage):
        from botocore.exceptions import ClientError

        obj = storage.bucket.Object(_s3_object_key(storage, key))
        try:
            size = obj.content_length
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        head = obj.get(Range=f"bytes=0-{head_bytes - 1}")["Body"].read() if size and head_bytes else b""
        return StoredObject(size=size, head=head[:head_bytes])
    if not storage.exists(key):
        return None
    with storage.open(key, "rb") as handle:
        return StoredObject(size=storage.size(key), head=handle.read(head_bytes))


def stored_copy(key: str, destination, *, unmodified_since: datetime | None = None,
                storage: Storage | None = None, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """Copy a stored object into the open binary file ``destination``, streamed; return its
    (sha256 hex digest, size).

    On S3, ``unmodified_since`` makes the read conditional: an object written again after that
    time raises ``StoredObjectChanged`` (S3 compares at whole seconds, on its own clock).
    """
    storage = storage or default_storage
    digest, size = hashlib.sha256(), 0
    if _is_s3(storage):
        from botocore.exceptions import ClientError

        options = {"IfUnmodifiedSince": unmodified_since} if unmodified_since is not None else {}
        try:
            body = storage.bucket.Object(_s3_object_key(storage, key)).get(**options)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("412", "PreconditionFailed"):
                raise StoredObjectChanged(key) from exc
            raise
        chunks = body.iter_chunks(chunk_size)
    else:
        body = storage.open(key, "rb")
        chunks = iter(lambda: body.read(chunk_size), b"")
    try:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            destination.write(chunk)
    finally:
        body.close()
    return digest.hexdigest(), size
