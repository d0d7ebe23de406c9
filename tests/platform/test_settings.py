"""Environment-driven settings: embedded defaults, production hardening."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "CELERY_", "ARENA_S3", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**base, "PYTHONPATH": f"{REPO}:{REPO / 'platform'}", **env},
        capture_output=True, text=True, timeout=120,
    )


def _settings(module: str, *names: str, **env) -> list[str]:
    code = (
        f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']={module!r}; django.setup();"
        f"from django.conf import settings as s; print('\\n'.join(repr(eval('s.'+n)) for n in {names!r}))"
    )
    result = _run(code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_embedded_defaults_need_no_server(tmp_path):
    engine, broker, storage = _settings(
        "arena.config.settings.local",
        "DATABASES['default']['ENGINE']", "CELERY_BROKER_URL", "STORAGES['default']['BACKEND']",
        ARENA_VAR_DIR=str(tmp_path),
    )
    assert engine == "'django.db.backends.sqlite3'"
    assert broker == "'filesystem://'"
    assert storage == "'arena.core.storage.SignedUrlFileSystemStorage'"


def test_environment_switches_to_postgres_redis_and_s3(tmp_path):
    engine, name, broker, storage, bucket = _settings(
        "arena.config.settings.local",
        "DATABASES['default']['ENGINE']", "DATABASES['default']['NAME']", "CELERY_BROKER_URL",
        "STORAGES['default']['BACKEND']", "STORAGES['default']['OPTIONS']['bucket_name']",
        ARENA_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u:p@127.0.0.1:5432/arena",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//", ARENA_S3_BUCKET="arena-files",
    )
    assert engine == "'django.db.backends.postgresql'"
    assert name == "'arena'"
    assert broker == "'amqp://guest:guest@127.0.0.1:5672//'"
    assert storage == "'storages.backends.s3.S3Storage'"
    assert bucket == "'arena-files'"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='arena.config.settings.production';"
        "django.setup()",
        ARENA_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_bad_boolean_is_named_in_the_error(tmp_path):
    result = _run(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='arena.config.settings.local';"
        "django.setup()",
        ARENA_VAR_DIR=str(tmp_path), DJANGO_DEBUG="maybe",
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "arena.config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "arena.example.org",
        "ARENA_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("module", ["local", "test", "production"])
def test_no_platform_package_shadows_the_standard_library(module):
    assert not (REPO / "platform" / "__init__.py").exists()
    import platform as stdlib_platform

    assert hasattr(stdlib_platform, "python_version")


def test_the_broker_never_redelivers_a_task_that_may_still_run(tmp_path):
    visibility, longest_container, health = _settings(
        "arena.config.settings.local", "CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']",
        "ARENA_CONTAINER_TASK_SECONDS", "DATABASES['default']['CONN_HEALTH_CHECKS']",
        ARENA_VAR_DIR=str(tmp_path), CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL="postgres://u:p@127.0.0.1:5432/arena", ARENA_MAX_CONTAINER_WALL_SECONDS="7200",
    )
    # A model may run 2 h, plus an hour to load, unpack and score, plus the hard limit's margin.
    assert (int(longest_container), int(visibility)) == (7200 + 3600, 7200 + 3600 + 120 + 600)
    assert health == "True"
    too_short = _run("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='arena.config.settings.local';"
                     "django.setup()", ARENA_VAR_DIR=str(tmp_path), CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
                     ARENA_VISIBILITY_SECONDS="3600")
    assert too_short.returncode != 0
    assert "ARENA_VISIBILITY_SECONDS=3600 must exceed the longest task (25320 s" in too_short.stderr


_TRANSPORT = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='arena.config.settings.local'; django.setup();"
              "from arena.config.celery import app; t = app.connection_for_read().transport;"
              "print(type(t).__module__, type(t).__name__)")


@pytest.mark.parametrize(("url", "transport"), [
    ("redis://127.0.0.1:6379/0", "arena.config.broker.redis_transport Transport"),
    ("rediss://127.0.0.1:6380/0", "arena.config.broker.redis_transport Transport"),
    ("amqp://guest:guest@127.0.0.1:5672//", "kombu.transport.pyamqp Transport"),
    ("filesystem://", "kombu.transport.filesystem Transport"),
])
def test_a_redis_broker_is_reached_through_the_platforms_transport(tmp_path, url, transport):
    # It lets a worker survive acknowledging a message whose connection is gone (arena.config.broker).
    result = _run(_TRANSPORT, ARENA_VAR_DIR=str(tmp_path), CELERY_BROKER_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == transport


_POOL_THREADS = ("import arena.config, numpy, threadpoolctl;"
                 "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info()}))")


def _without_thread_settings() -> dict:
    """The environment without the pool sizes (this test process set them when it imported the settings)."""
    return {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}


def test_web_and_worker_processes_run_numerical_libraries_on_one_thread(tmp_path):
    # gunicorn (arena.config.wsgi) and Celery (-A arena.config) import the package before numpy: its pools
    # get one thread, where they would otherwise start one per core in every process.
    env = {**_without_thread_settings(), "PYTHONPATH": f"{REPO}:{REPO / 'platform'}", "ARENA_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", _POOL_THREADS], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1]"
    # An operator's own setting stands.
    result = subprocess.run([sys.executable, "-c", _POOL_THREADS], cwd=REPO, capture_output=True, text=True,
                            env={**env, "OPENBLAS_NUM_THREADS": "2"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2]"
