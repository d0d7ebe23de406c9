"""Signed, expiring download links for whichever storage backs the site.

Local storage: nothing under MEDIA_ROOT is served directly. ``url()`` returns a link to
the ``signed-file`` view whose token is signed with the site's secret and binds the
storage key and an expiry time, like an S3 presigned URL.

S3 (django-storages): a presigned GET URL from boto3, valid for the given number of seconds.
"""

from __future__ import annotations

import time

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
