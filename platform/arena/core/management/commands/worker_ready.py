"""``manage.py worker_ready [--sandbox] [--ping]``: can this host's Celery worker do its work?

For a container healthcheck or a Kubernetes readiness probe of a worker. Checks, each within about
two seconds: the database answers, the broker accepts a connection; with ``--sandbox``, the Docker
engine answers and the sandbox images are present (``python -m sandboxes doctor`` checks the rest
of a sandbox host, once, when it is set up: too slow for a probe). With ``--ping``, also that the
worker on this host (``celery@<host name>``, or ``--node``) answers a ping through the broker:
a liveness check of the worker process itself. Prints one line per check; exits 0 when all pass.
"""

from __future__ import annotations

import socket

from django.core.management.base import BaseCommand, CommandError

from arena.core.health import (
    DEFAULT_TIMEOUT,
    OK,
    broker_status,
    database_status,
    docker_status,
    missing_sandbox_images,
    unreachable,
)


class Command(BaseCommand):
    help = "Exit 0 when this host's worker can reach the database, the broker and (--sandbox) Docker."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox", action="store_true",
                            help="also check the Docker engine and the sandbox images (sandbox workers)")
        parser.add_argument("--ping", action="store_true",
                            help="also check that this host's worker answers a ping through the broker")
        parser.add_argument("--node", default=f"celery@{socket.gethostname()}",
                            help="the worker to ping (default: celery@<this host name>)")
        parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per check")

    def handle(self, *args, sandbox: bool, ping: bool, node: str, timeout: float, **options):
        checks = {"database": database_status(timeout=timeout), "broker": broker_status(timeout=timeout)}
        if sandbox:
            checks["docker"] = docker_status()
            if checks["docker"] == OK:
                missing = missing_sandbox_images()
                checks["sandbox images"] = OK if not missing else (
                    f"missing {', '.join(missing)}: build them with infra/sandbox-images/build.sh")
        if ping and checks["broker"] == OK:
            checks["worker"] = _ping(node, timeout)
        for what, answer in checks.items():
            self.stdout.write(f"{'ok' if answer == OK else 'FAIL'} {what}" + ("" if answer == OK else f": {answer}"))
        if any(answer != OK for answer in checks.values()):
            raise CommandError("this worker is not ready", returncode=1)


def _ping(node: str, timeout: float) -> str:
    from celery import current_app

    try:
        replies = current_app.control.ping(destination=[node], timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - every transport raises its own errors
        return unreachable(exc)
    if any(node in reply for reply in replies):
        return OK
    return f"no answer from {node} within {timeout:g} s"
