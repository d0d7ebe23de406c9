"""Starting a real Celery worker process against the test database and a real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.processes import stop_process_group

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(broker_url: str, *, queues: str = "default,score", log_path: Path):
    """Run ``celery worker`` in a child process; the test's Celery app sends to the same broker."""
    from arena.config.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "arena.config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "ARENA_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONPATH": f"{REPO}:{REPO / 'platform'}",
    }
    transport_options = dict(app.conf.broker_transport_options or {})
    if broker_url.startswith("filesystem://"):
        # Producer and worker share one throw-away folder pair.
        folder = log_path.parent / "broker"
        env["ARENA_VAR_DIR"] = str(log_path.parent)
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"), "store_processed": False,
        }
        for sub in ("queue", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    old_url = os.environ.get("CELERY_BROKER_URL", app.conf.broker_url)
    switch_broker(app, broker_url)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "arena.config", "worker", "-Q", queues, "-c", "1",
         "--without-mingle", "--without-gossip", "--loglevel", "INFO", "-n", f"test-{os.getpid()}@%h"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        yield proc
    finally:
        stop_process_group(proc)
        log.close()
        switch_broker(app, old_url)
        app.conf.broker_transport_options = transport_options


def switch_broker(app, url: str) -> None:
    """Point the test process's Celery app at another broker, dropping pooled connections."""
    from kombu import pools

    from arena.config.broker import transport_for

    pools.reset()  # kombu keeps pools per connection globally; closed ones must not be reused
    app._pool = None
    app.amqp._producer_pool = None
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_transport = transport_for(url)


def wait_for(predicate, *, timeout: float, what: str, log_path: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tail = log_path.read_text()[-3000:] if log_path and log_path.exists() else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\nworker log:\n{tail}")


def isolated_redis_url(base: str = "redis://127.0.0.1:6379") -> str:
    """A Redis database of its own for this xdist process, flushed, so parallel runs never share queues."""
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = f"{base}/{1 + int(worker.removeprefix('gw') or 0) % 14}"
    redis.Redis.from_url(url).flushdb()
    return url


def probed_broker() -> str:
    """A broker that tests only connect to (health probes): the configured Redis at database 15, which no
    test worker uses and nobody flushes under another run's feet, else the embedded file-system broker."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    return configured.rsplit("/", 1)[0] + "/15" if configured.startswith("redis://") else "filesystem://"


def broker_for_tests() -> str:
    """Redis when the run is configured with it (CI), else the embedded file-system broker."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    return isolated_redis_url(configured.rsplit("/", 1)[0]) if configured.startswith("redis://") else "filesystem://"
