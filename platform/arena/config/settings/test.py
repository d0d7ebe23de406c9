"""Settings for the test suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)."""

import os as _os
import tempfile as _tempfile

from .base import *  # noqa: F403
from .base import SECRET_KEY as _SECRET_KEY
from .base import STORAGES as _STORAGES

SECRET_KEY = _SECRET_KEY or "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

if not _STORAGES["default"]["BACKEND"].startswith("storages."):
    # Each test process writes its files to its own throw-away folder; ARENA_TEST_MEDIA_ROOT
    # lets a worker process started by a test share the test's files.
    MEDIA_ROOT = _os.environ.get("ARENA_TEST_MEDIA_ROOT") or _tempfile.mkdtemp(prefix="arena-test-media-")
    STORAGES = {**_STORAGES, "default": {**_STORAGES["default"], "OPTIONS": {"location": MEDIA_ROOT}}}
