"""Can this process reach what it needs? The checks behind ``/healthz`` and ``manage.py worker_ready``.

Each check answers ``"ok"`` or ``"unreachable: <short reason>"`` within about ``timeout`` seconds
(a probe must never hold a gunicorn worker for long) and never raises for what it finds. Reasons
are scrubbed of credentials: a probe's answer is not a secret.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import DatabaseError, connections

OK = "ok"
#: Seconds a check may take to connect, and then to get its answer.
DEFAULT_TIMEOUT = 2.0
#: Long enough to say what failed, short enough for a health answer.
REASON_LENGTH = 120
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*@")


def unreachable(exc: BaseException) -> str:
    """``unreachable: <reason>`` for ``exc``, on one line, without user names or passwords of URLs."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = _CREDENTIALS.sub("***@", text)
    password = settings.DATABASES.get("default", {}).get("PASSWORD")
    if password:
        text = text.replace(str(password), "***")
    if len(text) > REASON_LENGTH:
        text = text[: REASON_LENGTH - 1] + "…"
    return f"unreachable: {text}"


def database_status(*, alias: str = "default", timeout: float = DEFAULT_TIMEOUT) -> str:
    """Whether the database answers ``SELECT 1``.

    PostgreSQL gets a connection of its own with connect and statement time-outs, so that a host that
    does not answer costs ``timeout`` seconds rather than the TCP time-out, and the request's own
    (persistent) connection is left alone. Other engines (SQLite: a local file) use the usual one.
    """
    connection = connections[alias]
    try:
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            return OK
        params = connection.get_connection_params()
        params["connect_timeout"] = max(1, round(timeout))
        params["options"] = f"{params.get('options', '')} -c statement_timeout={int(timeout * 1000)}".strip()
        # The driver's errors (psycopg.OperationalError, ...) become Django's DatabaseError subclasses.
        with connection.wrap_database_errors:
            raw = connection.get_new_connection(params)
            try:
                with raw.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
            finally:
                raw.close()
        return OK
    except (DatabaseError, OSError) as exc:
        return unreachable(exc)


def broker_status(*, url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Whether the Celery broker accepts a connection (for Redis, answers a PING on a channel)."""
    from celery import current_app
    from kombu import Connection

    url = url or current_app.conf.broker_url
    transport_options = dict(current_app.conf.broker_transport_options or {})
    # Redis: a socket that connects but never answers is given up after the same time.
    transport_options.update({"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0})
    try:
        with Connection(url, connect_timeout=timeout, transport_options=transport_options) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            # Virtual transports (Redis) connect lazily: opening a channel makes Redis answer a PING.
            connection.default_channel  # noqa: B018
        return OK
    except Exception as exc:  # noqa: BLE001 - every transport raises its own errors; all mean "unreachable"
        return unreachable(exc)


def docker_status() -> str:
    """Whether the Docker engine (DOCKER_HOST or the local socket) answers a ping."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    from sandboxes.engine import docker_client
    from sandboxes.errors import SandboxError

    try:
        docker_client().ping()
        return OK
    except (SandboxError, DockerException, RequestException, OSError) as exc:
        return unreachable(exc)


def missing_sandbox_images(images: list[str] | None = None) -> list[str]:
    """The images a sandbox worker needs (``sandboxes.doctor.worker_images``) that the engine lacks."""
    from sandboxes.doctor import worker_images
    from sandboxes.engine import docker_client
    from sandboxes.images import image_present

    client = docker_client()
    return [name for name in (worker_images() if images is None else images) if not image_present(name, client)]


def site_health() -> tuple[bool, dict[str, str]]:
    """What ``/healthz`` answers: whether everything is ok, and each check's answer."""
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == OK for value in checks.values())
    return healthy, {"status": "ok" if healthy else "unavailable", **checks}
