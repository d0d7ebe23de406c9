"""Settings shared by every environment. Everything is driven by environment variables.

With nothing set, AffectArena runs on one machine: SQLite and file storage under
``var/``, and a file-system Celery broker that needs no server.
"""

import ipaddress
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from arena.config.broker import transport_for
from arena.config.env import env_bool, env_int, env_list, env_str

REPO_DIR = Path(__file__).resolve().parents[4]
VAR_DIR = Path(env_str("ARENA_VAR_DIR", str(REPO_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("ARENA_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc from the site's own static files: the API reference works offline.
    "drf_spectacular_sidecar",
    "arena.core",
    "arena.accounts",
    "arena.audit",
    "arena.challenges",
    "arena.teams",
    "arena.participation",
    "arena.datasets",
    "arena.submissions",
    "arena.leaderboards",
    "arena.exports",
    "arena.factsheets",
    "arena.demo",
    "arena.tokens",
    "arena.api",
]

MIDDLEWARE = [
    # /healthz and /metrics, answered before host validation and the HTTPS redirect (see the module).
    "arena.core.probes.ProbesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous board reads that need no rendering (304s, stored answers): before sessions and DRF.
    "arena.leaderboards.anonymous_reads.AnonymousBoardReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "arena.config.urls"
WSGI_APPLICATION = "arena.config.wsgi.application"
ASGI_APPLICATION = "arena.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [REPO_DIR / "platform" / "arena" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL")
if _database_url:
    # Health checks: a persistent connection that a database restart broke is replaced before use.
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # The web server and the worker write at the same time: WAL and IMMEDIATE
            # transactions turn lock conflicts into short waits instead of errors.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "challenge-list"
LOGOUT_REDIRECT_URL = "challenge-list"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [REPO_DIR / "platform" / "arena" / "static"]
# Collected static files are needed only where DEBUG is off (production); elsewhere WhiteNoise
# and runserver read them from the apps.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
# No URL route serves MEDIA_ROOT: every download goes through a signed, expiring link.
MEDIA_URL = "/media/"

S3_BUCKET = env_str("ARENA_S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("ARENA_S3_ENDPOINT_URL") or None,
            "region_name": env_str("ARENA_S3_REGION") or None,
            "access_key": env_str("ARENA_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("ARENA_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("ARENA_DOWNLOAD_URL_SECONDS", 300),
            "file_overwrite": False,
            "addressing_style": env_str("ARENA_S3_ADDRESSING_STYLE", "path"),
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "arena.core.storage.SignedUrlFileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded files stream to temporary files, never to memory, and a request stops being read once it
# passes its limit (arena.core.uploads): the track's on the submission pages and API, elsewhere these.
FILE_UPLOAD_HANDLERS = ["arena.core.uploads.BoundedUploadHandler"]
ARENA_MAX_REQUEST_MB = env_int("ARENA_MAX_REQUEST_MB", 16)
ARENA_MAX_ADMIN_UPLOAD_MB = env_int("ARENA_MAX_ADMIN_UPLOAD_MB", 5120)
# No handler keeps files in memory: this is read only by Django's ASGI handler, which buffers bodies.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------
def mailers_from_env(default_backend: str) -> dict:
    """The MAILERS setting: DJANGO_EMAIL_BACKEND, and for SMTP the DJANGO_EMAIL_* variables."""
    backend = env_str("DJANGO_EMAIL_BACKEND", default_backend)
    options = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": env_str("DJANGO_EMAIL_HOST", "localhost"),
            "port": env_int("DJANGO_EMAIL_PORT", 25),
            "username": env_str("DJANGO_EMAIL_HOST_USER"),
            "password": env_str("DJANGO_EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
        }
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = mailers_from_env("django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "AffectArena <noreply@localhost>")

# --- Celery ---------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A Redis broker hands an unacknowledged message to another worker after the visibility timeout:
    # it must outlast the longest task, or a model still running would be started a second time.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": None}  # set below, from the task limits
# For Redis the platform's own transport: a worker survives acknowledging a message whose connection is gone.
CELERY_BROKER_TRANSPORT = transport_for(CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("default", "score", "sandbox", "sandbox-gpu")
]
CELERY_TASK_ROUTES = {"arena.submissions.tasks.score_submission": {"queue": "score"}}
CELERY_TASK_TIME_LIMIT = env_int("ARENA_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("ARENA_TASK_SOFT_TIME_LIMIT", 1700)
# Upper bounds of what an organiser may configure on a track.
ARENA_MAX_CONTAINER_WALL_SECONDS = env_int("ARENA_MAX_CONTAINER_WALL_SECONDS", 6 * 3600)
ARENA_MAX_UPLOAD_MB = env_int("ARENA_MAX_UPLOAD_MB", 1024)
ARENA_MAX_IMAGE_MB = env_int("ARENA_MAX_IMAGE_MB", 16384)
# A container task: the longest model run plus loading the image, unpacking the inputs and scoring.
ARENA_CONTAINER_TASK_SECONDS = ARENA_MAX_CONTAINER_WALL_SECONDS + env_int("ARENA_CONTAINER_OVERHEAD_SECONDS", 3600)
_LONGEST_TASK_SECONDS = max(CELERY_TASK_TIME_LIMIT, ARENA_CONTAINER_TASK_SECONDS + 120)
if "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:
    _visibility = env_int("ARENA_VISIBILITY_SECONDS", _LONGEST_TASK_SECONDS + 600)
    if _visibility <= _LONGEST_TASK_SECONDS:
        raise ImproperlyConfigured(
            f"ARENA_VISIBILITY_SECONDS={_visibility} must exceed the longest task ({_LONGEST_TASK_SECONDS} s: "
            "ARENA_MAX_CONTAINER_WALL_SECONDS plus ARENA_CONTAINER_OVERHEAD_SECONDS, or ARENA_TASK_TIME_LIMIT); "
            "raise it or lower those."
        )
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = _visibility
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Platform --------------------------------------------------------------------------
ARENA_DOWNLOAD_URL_SECONDS = env_int("ARENA_DOWNLOAD_URL_SECONDS", 300)
# Told to clients in Retry-After when the database does not answer.
ARENA_RETRY_AFTER_SECONDS = env_int("ARENA_RETRY_AFTER_SECONDS", 5)
# How long a shared cache may hold a public board (anonymous readers only); 0: revalidate every time.
ARENA_BOARD_CACHE_SECONDS = env_int("ARENA_BOARD_CACHE_SECONDS", 5)
# Off: boards send no validators and answer no conditional requests (for before/after benchmarks).
ARENA_BOARD_CONDITIONAL = env_bool("ARENA_BOARD_CONDITIONAL", True)
# Full board answers each web process keeps (MB), by path and ETag, served again while the board is unchanged (0: off).
ARENA_BOARD_BODY_CACHE_MB = env_int("ARENA_BOARD_BODY_CACHE_MB", 32)
ARENA_RECONCILE_SECONDS = env_int("ARENA_RECONCILE_SECONDS", 30)
ARENA_SCORING_DEADLINE_SECONDS = env_int("ARENA_SCORING_DEADLINE_SECONDS", 900)
# A worker renews its lease on a submission every third of this; a lapsed lease is taken back.
ARENA_LEASE_SECONDS = env_int("ARENA_LEASE_SECONDS", 60)
# The outbox: how often waiting submissions are sent, and when an unclaimed one is sent again.
ARENA_DISPATCH_SECONDS = env_int("ARENA_DISPATCH_SECONDS", 10)
ARENA_REDISPATCH_SECONDS = env_int("ARENA_REDISPATCH_SECONDS", 60)
ARENA_MAX_ATTEMPTS = env_int("ARENA_MAX_ATTEMPTS", 3)
# Refused uploads (invalid files) a team may make per hour and phase, unless the phase says otherwise.
ARENA_REFUSED_UPLOADS_PER_HOUR = env_int("ARENA_REFUSED_UPLOADS_PER_HOUR", 20)
# "Best on the hidden split" lets each entry fit the hidden split: phases using it allow at most this many.
ARENA_BEST_HIDDEN_MAX_TOTAL = env_int("ARENA_BEST_HIDDEN_MAX_TOTAL", 5)
# Board statistics (arena.leaderboards.statistics): bootstrap resamples, significance level (intervals at
# 1 - alpha), and the least seconds between two runs for one phase. Changing the resamples pairs only
# submissions scored afterwards: re-run scoring to compute the others' records again.
ARENA_BOARD_RESAMPLES = env_int("ARENA_BOARD_RESAMPLES", 1000)
ARENA_BOARD_ALPHA = float(env_str("ARENA_BOARD_ALPHA", "0.05"))
ARENA_BOARD_STATISTICS_SECONDS = env_int("ARENA_BOARD_STATISTICS_SECONDS", 30)
# How often phases due for an automatic reveal (at their close) are stamped as revealed.
ARENA_REVEAL_SECONDS = env_int("ARENA_REVEAL_SECONDS", 60)
# Organisers get at most one e-mail per phase in this period about submissions failing on its configuration;
# the check that sends the summaries and re-queues the failures of phases ready again runs every
# ARENA_MISCONFIGURATION_CHECK_SECONDS.
ARENA_MISCONFIGURATION_ALERT_SECONDS = env_int("ARENA_MISCONFIGURATION_ALERT_SECONDS", 3600)
ARENA_MISCONFIGURATION_CHECK_SECONDS = env_int("ARENA_MISCONFIGURATION_CHECK_SECONDS", 120)
ARENA_AGREEMENT_MAX_BYTES = env_int("ARENA_AGREEMENT_MAX_BYTES", 10 * 1024 * 1024)
# Sandboxes: registries models may be pulled from (site-wide), and where runs keep their files.
ARENA_IMAGE_ALLOWLIST = env_list("ARENA_IMAGE_ALLOWLIST")
ARENA_SANDBOX_WORK_DIR = env_str("ARENA_SANDBOX_WORK_DIR", "")
# Robustness: the sandbox host's caches of unpacked clean inputs and of corrupted conditions (bounded, shared
# by the host's worker processes; see sandboxes/README.md).
ARENA_CONDITION_CACHE_DIR = env_str(
    "ARENA_CONDITION_CACHE_DIR", os.path.join(ARENA_SANDBOX_WORK_DIR or tempfile.gettempdir(), "arena-sandbox-cache"))
ARENA_CONDITION_CACHE_MB = env_int("ARENA_CONDITION_CACHE_MB", 20_000)
ARENA_INPUT_CACHE_MB = env_int("ARENA_INPUT_CACHE_MB", 20_000)
ARENA_DEMO_PASSWORD = env_str("ARENA_DEMO_PASSWORD", "demo-pass-2026")

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "arena.tokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Etiquette for scripts, not a limit: the hard limits (submission quotas) live in the services.
    "DEFAULT_THROTTLE_CLASSES": [
        "arena.api.throttling.AnonymousRateThrottle",
        "arena.api.throttling.PersonRateThrottle",
        "arena.api.throttling.ScopeRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("ARENA_API_RATE_ANON", "300/minute"),
        "user": env_str("ARENA_API_RATE_USER", "1200/minute"),
        "submissions": env_str("ARENA_API_RATE_SUBMISSIONS", "60/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "EXCEPTION_HANDLER": "arena.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AffectArena API",
    "DESCRIPTION": (
        "Submit predictions, follow their scoring, read leaderboards and download data. Authenticate with a "
        "personal API token from /accounts/tokens/ sent as `Authorization: Token <token>`. Every error is "
        "`{\"code\", \"message\", \"details\"}`; the command-line client `arena` wraps this API."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request components, so that uploads are documented as binary files.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PhaseKindEnum": "arena.challenges.models.PhaseKind",
        "SubmissionKindEnum": "arena.challenges.models.SubmissionKind",
        "DatasetFileKindEnum": "arena.datasets.models.DatasetFileKind",
        "BoardVisibilityEnum": "arena.challenges.models.BoardVisibility",
        "EntryRuleEnum": "arena.challenges.models.EntryRule",
        "ExportKindEnum": "arena.exports.models.ExportKind",
        "ExportStatusEnum": "arena.exports.models.ExportStatus",
        "QuestionKindEnum": "arena.factsheets.models.QuestionKind",
    },
}

# --- Operations ------------------------------------------------------------------------
# /metrics (arena.core.probes): a bearer token, and/or networks that may call it directly; neither: off.
ARENA_METRICS_TOKEN = env_str("ARENA_METRICS_TOKEN")
ARENA_METRICS_ALLOWED_NETWORKS = env_list("ARENA_METRICS_ALLOWED_NETWORKS")
for _network in ARENA_METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"ARENA_METRICS_ALLOWED_NETWORKS: {_network!r} is not a network; use e.g. 10.0.0.0/8,127.0.0.1"
        ) from None

# "plain" lines for people, or "json": one object per line for log collectors (arena.core.log_format).
ARENA_LOG_FORMAT = env_str("ARENA_LOG_FORMAT", "plain").strip().lower() or "plain"
if ARENA_LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"ARENA_LOG_FORMAT={ARENA_LOG_FORMAT!r}: use plain or json")
# Celery workers otherwise replace the root logger's handlers with their own plain format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = ARENA_LOG_FORMAT != "json"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "arena.core.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": ARENA_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("ARENA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

CELERY_BEAT_SCHEDULE = {
    "reconcile-submissions": {
        "task": "arena.submissions.tasks.reconcile_submissions",
        "schedule": float(ARENA_RECONCILE_SECONDS),
        "options": {"queue": "default", "expires": float(ARENA_RECONCILE_SECONDS)},
    },
    "reveal-closed-phases": {
        "task": "arena.challenges.tasks.reveal_closed_phases",
        "schedule": float(ARENA_REVEAL_SECONDS),
        "options": {"queue": "default", "expires": float(ARENA_REVEAL_SECONDS)},
    },
    "dispatch-submissions": {
        "task": "arena.submissions.tasks.dispatch_submissions",
        "schedule": float(ARENA_DISPATCH_SECONDS),
        "options": {"queue": "default", "expires": float(ARENA_DISPATCH_SECONDS)},
    },
    "misconfigured-submissions": {
        "task": "arena.submissions.tasks.handle_misconfigured_submissions",
        "schedule": float(ARENA_MISCONFIGURATION_CHECK_SECONDS),
        "options": {"queue": "default", "expires": float(ARENA_MISCONFIGURATION_CHECK_SECONDS)},
    },
}
