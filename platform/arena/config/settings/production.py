"""Production settings: explicit secrets, HTTPS everywhere, hardened cookies.

``python manage.py check --deploy --fail-level WARNING`` is clean with these settings.
"""

from django.core.exceptions import ImproperlyConfigured

from arena.config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403
from .base import SECRET_KEY, STORAGES, VAR_DIR, mailers_from_env

if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random string of at least 50 characters in "
        "production; generate one with: python -c \"import secrets; print(secrets.token_urlsafe(64))\""
    )

DEBUG = False
STATIC_ROOT = env_str("ARENA_STATIC_ROOT", str(VAR_DIR / "static"))
WHITENOISE_USE_FINDERS = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
MAILERS = mailers_from_env("django.core.mail.backends.smtp.EmailBackend")
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
