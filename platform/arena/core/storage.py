"""Local file storage whose URLs are signed and expire, like S3 presigned URLs.

Nothing under MEDIA_ROOT is served directly: ``url()`` returns a link to the
``signed-file`` view carrying a signature over the file's key and an expiry.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

SALT = "arena.signed-file"


class SignedUrlFileSystemStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        token = signing.dumps({"key": name}, salt=SALT, compress=True)
        return reverse("signed-file", args=[token])


def key_from_token(token: str) -> str:
    """The storage key a token grants; raises signing.BadSignature (or SignatureExpired)."""
    payload = signing.loads(token, salt=SALT, max_age=settings.ARENA_DOWNLOAD_URL_SECONDS)
    return payload["key"]
