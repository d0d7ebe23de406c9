"""The platform image (infra/platform-image): built offline, it runs the site and its probes.

The build is cached by its recipe hash (arena/platform:<hash>): when nothing changed it takes
seconds; a source change rebuilds only the top image (about 20 s); new dependency versions rebuild
the runtime (about 4 minutes, most of it pip fetching wheels from the local index). The containers
use the host's network, to reach the test database and broker on loopback.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import docker
import pytest

from sandboxes.engine import engine_available
from tests.conftest import require
from tests.platform.worker import database_url, probed_broker

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.docker, pytest.mark.postgres, pytest.mark.django_db]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def platform_image() -> str:
    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    spec = importlib.util.spec_from_file_location("arena_platform_image_build", REPO / "infra/platform-image/build.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    require(builder.image_id_for("arena/sandbox-base:latest") is not None,
            "needs arena/sandbox-base: build it with `bash infra/sandbox-images/build.sh`")
    return builder.ensure_platform_image()


@pytest.fixture
def environment() -> dict[str, str]:
    broker = probed_broker()
    require(broker.startswith("redis://"), "needs a Redis broker: set CELERY_BROKER_URL=redis://...")
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_ALLOWED_HOSTS": "arena.example.org",
    }


def _run(image: str, command: list[str], environment: dict[str, str]) -> tuple[int, str]:
    client = docker.from_env()
    container = client.containers.run(image, command, environment=environment, network_mode="host", detach=True)
    try:
        status = container.wait(timeout=120)["StatusCode"]
        return status, container.logs().decode()
    finally:
        container.remove(force=True)


def test_the_image_runs_as_a_user_with_python_3_12_and_the_dependencies(platform_image):
    status, output = _run(platform_image, ["python", "-c", (
        "import os, sys, ssl, sqlite3, django, celery, numpy, sklearn, psycopg, prometheus_client; "
        "print(os.getuid(), sys.version_info[:2], django.VERSION[0])")], {})
    assert (status, output.strip()) == (0, "10001 (3, 12) 6")


def test_production_settings_pass_the_deploy_check_in_the_image(platform_image, environment):
    status, output = _run(platform_image, ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          environment)
    assert (status, output.strip()) == (0, "System check identified no issues (0 silenced).")


def test_worker_ready_in_the_image(platform_image, environment):
    status, output = _run(platform_image, ["python", "manage.py", "worker_ready"], environment)
    assert (status, output) == (0, "ok database\nok broker\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    status, output = _run(platform_image, ["python", "manage.py", "worker_ready"],
                          {**environment, "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed}/0"})
    assert status == 1
    # stdout and stderr (where the command's final error goes) interleave in any order in the logs.
    lines = output.splitlines()
    assert [line for line in lines if line.startswith(("ok ", "FAIL "))] == [
        "ok database", f"FAIL broker: unreachable: Error 111 connecting to 127.0.0.1:{closed}. Connection refused."]
    assert "CommandError: this worker is not ready" in lines


def test_the_image_serves_healthz_and_static_files_with_gunicorn(platform_image, environment):
    port = _free_port()
    client = docker.from_env()
    container = client.containers.run(
        platform_image, ["gunicorn", "arena.config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                         "--no-control-socket"],
        environment=environment, network_mode="host", detach=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
                    assert json.loads(response.read()) == {"status": "ok", "database": "ok", "broker": "ok"}
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise AssertionError(container.logs().decode()[-3000:]) from None
                time.sleep(0.5)
        # Static files come from the collected, hashed copy in the image (WhiteNoise).
        request = urllib.request.Request(f"http://127.0.0.1:{port}/favicon.ico",
                                         headers={"Host": "arena.example.org", "X-Forwarded-Proto": "https"})
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(request, timeout=5)
        assert redirect.value.code == 301
        location = redirect.value.headers["Location"]
        assert location.startswith("/static/arena/favicon.") and location.endswith(".ico")
        static = urllib.request.Request(f"http://127.0.0.1:{port}{location}",
                                        headers={"Host": "arena.example.org", "X-Forwarded-Proto": "https"})
        with urllib.request.urlopen(static, timeout=5) as response:
            assert response.status == 200 and response.read()[:4] == b"\x00\x00\x01\x00"
    finally:
        container.remove(force=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
