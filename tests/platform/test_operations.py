"""/healthz, /metrics, `manage.py worker_ready` and JSON logs: what operators and their tools read."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from celery import current_app
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from arena.audit.models import AuditEntry
from arena.challenges.models import SubmissionKind
from arena.core.log_format import JsonFormatter
from arena.submissions.models import Submission
from arena.submissions.models import SubmissionStatus as S
from arena.submissions.services import lifecycle
from arena.submissions.services.reconcile import submissions_reconcile
from tests.conftest import require
from tests.platform.factories import PhaseFactory, SubmissionFactory
from tests.platform.worker import probed_broker, switch_broker

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_url(monkeypatch):
    """The Celery app of the test process pointed at ``url`` for the test, then back."""
    old = current_app.conf.broker_url
    monkeypatch.setenv("CELERY_BROKER_URL", old)  # the environment comes back as it was, after the app

    def point(url: str) -> str:
        switch_broker(current_app, url)
        return url

    yield point
    switch_broker(current_app, old)


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


# --- /healthz ------------------------------------------------------------------------------------


def test_healthz_answers_200_when_database_and_broker_answer(client, broker_url):
    broker_url(probed_broker())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_healthz_needs_no_login_no_known_host_and_no_https(client, settings, broker_url):
    """Probes call a container by its address over plain HTTP, even with production's redirect."""
    broker_url(probed_broker())
    settings.ALLOWED_HOSTS = ["arena.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert (response.status_code, response.json()["status"]) == (200, "ok")
    assert client.head("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # The rest of the site still validates the host.
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_healthz_answers_503_naming_the_broker_without_its_password(client, broker_url):
    port = closed_port()
    broker_url(f"redis://:s3cret-pass@127.0.0.1:{port}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["broker"].startswith("unreachable: ") and str(port) in body["broker"]
    assert set(body) == {"status", "database", "broker"}
    assert "s3cret-pass" not in response.content.decode()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.postgres
def test_healthz_answers_503_naming_the_database(client, broker_url):
    """The check gets a connection of its own: pointing the settings at a closed port makes it fail
    while the test's own connection (and the machine's PostgreSQL) is untouched."""
    broker_url(probed_broker())
    port = closed_port()
    with mock.patch.dict(connection.settings_dict, {"PORT": str(port), "PASSWORD": "db-s3cret"}):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["broker"]) == ("unavailable", "ok")
    assert body["database"].startswith("unreachable: ") and f"port {port} failed" in body["database"]
    assert "db-s3cret" not in response.content.decode()
    assert client.get("/healthz").status_code == 200


def test_healthz_reasons_never_carry_credentials():
    from arena.core.health import unreachable

    exc = OSError("cannot reach amqp://arena:hunter2@rabbit:5672// " + "x" * 300)
    answer = unreachable(exc)
    assert answer.startswith("unreachable: cannot reach amqp://***@rabbit:5672// x")
    assert "hunter2" not in answer and len(answer) == len("unreachable: ") + 120


# --- worker_ready ----------------------------------------------------------------------------------


def test_worker_ready_passes_when_database_and_broker_answer(capsys, broker_url):
    broker_url(probed_broker())
    call_command("worker_ready")
    assert capsys.readouterr().out == "ok database\nok broker\n"


def test_worker_ready_fails_when_the_broker_does_not_answer(capsys, broker_url):
    broker_url(f"redis://127.0.0.1:{closed_port()}/0")
    with pytest.raises(CommandError) as failure:
        call_command("worker_ready")
    assert failure.value.returncode == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ok database" and lines[1].startswith("FAIL broker: unreachable: ")


@pytest.mark.docker
def test_worker_ready_with_sandbox_checks_the_engine_and_the_images(capsys, broker_url, monkeypatch):
    from sandboxes.engine import engine_available

    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    broker_url(probed_broker())
    monkeypatch.setattr("sandboxes.doctor.worker_images", lambda: ["arena/sandbox-base:latest"])
    require(subprocess.run(["docker", "image", "inspect", "arena/sandbox-base:latest"],
                           capture_output=True).returncode == 0, "needs arena/sandbox-base: infra/sandbox-images")
    call_command("worker_ready", "--sandbox")
    assert capsys.readouterr().out == "ok database\nok broker\nok docker\nok sandbox images\n"

    monkeypatch.setattr("sandboxes.doctor.worker_images", lambda: ["arena/sandbox-base:latest", "arena-test/absent:x"])
    with pytest.raises(CommandError):
        call_command("worker_ready", "--sandbox")
    assert capsys.readouterr().out.splitlines()[-1] == (
        "FAIL sandbox images: missing arena-test/absent:x: build them with infra/sandbox-images/build.sh")


# --- /metrics ----------------------------------------------------------------------------------------


def _samples(content: bytes) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(content.decode())
        for sample in family.samples
    }


def _known_submissions() -> None:
    """Three scored (3 s, 45 s and, for a model that ran 100 s, 2 s of scoring), one failed, one queued;
    then the reconciler takes back one lapsed lease and fails one submission out of attempts."""
    phase = PhaseFactory()
    t0 = timezone.now() - timedelta(hours=1)
    timings = [
        (S.SCORED, SubmissionKind.FILE, None, t0, t0 + timedelta(seconds=3)),
        (S.SCORED, SubmissionKind.FILE, None, t0, t0 + timedelta(seconds=45)),
        (S.SCORED, SubmissionKind.CONTAINER, t0, t0 + timedelta(seconds=100), t0 + timedelta(seconds=102)),
        (S.FAILED, SubmissionKind.FILE, None, t0, t0 + timedelta(seconds=1)),
        (S.QUEUED, SubmissionKind.FILE, None, None, None),
    ]
    for status, kind, started, scoring_started, finished in timings:
        sub = SubmissionFactory(phase=phase, kind=kind)
        Submission.objects.filter(pk=sub.pk).update(
            status=status, started_at=started, scoring_started_at=scoring_started, finished_at=finished)
    stale, exhausted = SubmissionFactory(phase=phase), SubmissionFactory(phase=phase)
    for sub in (stale, exhausted):
        token = lifecycle.submission_mark_queued(submission_id=sub.pk)
        assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    Submission.objects.filter(pk__in=[stale.pk, exhausted.pk]).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))
    Submission.objects.filter(pk=exhausted.pk).update(attempts=3)
    assert submissions_reconcile() == {"requeued": 1, "failed": 1}


def _bucket(name: str, le: str) -> tuple[str, tuple]:
    return f"{name}_bucket", (("le", le),)


EXPECTED = {
    **{("arena_submissions", (("status", status),)): value for status, value in
       {"submitted": 0, "queued": 2, "running": 0, "scoring": 0, "scored": 3, "failed": 2, "cancelled": 0}.items()},
    **{_bucket("arena_scoring_duration_seconds", le): value for le, value in
       {"1.0": 0, "2.5": 1, "5.0": 2, "10.0": 2, "30.0": 2, "60.0": 3, "120.0": 3, "300.0": 3, "600.0": 3,
        "1800.0": 3, "+Inf": 3}.items()},
    ("arena_scoring_duration_seconds_count", ()): 3,
    ("arena_scoring_duration_seconds_sum", ()): 50.0,
    **{_bucket("arena_sandbox_run_duration_seconds", le): value for le, value in
       {"10.0": 0, "30.0": 0, "60.0": 0, "120.0": 1, "300.0": 1, "600.0": 1, "1800.0": 1, "3600.0": 1,
        "7200.0": 1, "21600.0": 1, "+Inf": 1}.items()},
    ("arena_sandbox_run_duration_seconds_count", ()): 1,
    ("arena_sandbox_run_duration_seconds_sum", ()): 100.0,
    ("arena_reconciler_actions_total", (("action", "requeued"),)): 1,
    ("arena_reconciler_actions_total", (("action", "failed"),)): 1,
}


def test_metrics_give_exact_values_for_known_submissions(client, settings):
    settings.ARENA_MAX_ATTEMPTS = 3
    settings.ARENA_METRICS_TOKEN = "metrics-token-1"
    settings.CELERY_BROKER_URL = "filesystem://"  # no queue depths: only Redis is asked
    _known_submissions()
    assert AuditEntry.objects.filter(action__endswith="_by_reconciler").count() == 2
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    assert _samples(response.content) == EXPECTED


def test_metrics_give_the_depth_of_each_redis_queue(client, settings):
    require(redis_available(), "needs Redis on 127.0.0.1:6379")
    import redis

    # Database 15: no worker (isolated_redis_url gives test workers 1-14) takes these fake messages.
    url = "redis://127.0.0.1:6379/15"
    settings.CELERY_BROKER_URL = url
    settings.ARENA_METRICS_TOKEN = "metrics-token-1"
    store = redis.Redis.from_url(url)
    store.flushdb()
    try:
        store.lpush("score", "a", "b", "c")
        store.lpush("score\x06\x163", "high priority")  # kombu's key for priority 3
        store.lpush("sandbox", "d")
        samples = _samples(client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-1").content)
    finally:
        store.flushdb()
    depths = {dict(labels)["queue"]: value for (name, labels), value in samples.items() if name == "arena_queue_depth"}
    assert depths == {"default": 0, "score": 4, "sandbox": 1, "sandbox-gpu": 0}
    assert samples[("arena_broker_up", ())] == 1


def test_metrics_report_a_broker_that_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.ARENA_METRICS_TOKEN = "metrics-token-1"
    samples = _samples(client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-1").content)
    assert samples[("arena_broker_up", ())] == 0
    assert not [name for name, _ in samples if name == "arena_queue_depth"]


@pytest.mark.parametrize(
    ("token", "networks", "headers", "remote", "allowed"),
    [
        ("", [], {}, "127.0.0.1", False),  # neither set: off for everyone
        ("metrics-token-1", [], {}, "127.0.0.1", False),
        ("metrics-token-1", [], {"HTTP_AUTHORIZATION": "Bearer wrong"}, "127.0.0.1", False),
        ("metrics-token-1", [], {"HTTP_AUTHORIZATION": "Token metrics-token-1"}, "127.0.0.1", False),
        ("metrics-token-1", [], {"HTTP_AUTHORIZATION": "Bearer metrics-token-1"}, "203.0.113.9", True),
        ("metrics-token-1", [], {"HTTP_AUTHORIZATION": "bearer metrics-token-1"}, "203.0.113.9", True),
        ("", [], {"HTTP_AUTHORIZATION": "Bearer "}, "127.0.0.1", False),  # an empty token is no token
        ("", ["10.0.0.0/8", "127.0.0.1"], {}, "10.20.30.40", True),
        ("", ["10.0.0.0/8", "127.0.0.1"], {}, "127.0.0.1", True),
        ("", ["10.0.0.0/8", "127.0.0.1"], {}, "192.168.1.1", False),
        # Through the TLS proxy REMOTE_ADDR is the proxy's, inside the allowed network: refused.
        ("", ["10.0.0.0/8"], {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, "10.0.0.2", False),
        ("", ["::1"], {}, "::1", True),
    ],
)
def test_metrics_are_served_only_with_the_token_or_to_allowed_networks(
    client, settings, django_assert_num_queries, token, networks, headers, remote, allowed,
):
    settings.ARENA_METRICS_TOKEN = token
    settings.ARENA_METRICS_ALLOWED_NETWORKS = networks
    settings.CELERY_BROKER_URL = "filesystem://"
    if allowed:
        response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
        assert response.status_code == 200 and b"arena_submissions" in response.content
    else:
        with django_assert_num_queries(0):  # a refused scrape costs nothing
            response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
        assert (response.status_code, response.content) == (404, b"Not found.")


# --- JSON logs -------------------------------------------------------------------------------------


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("arena.submissions", logging.WARNING, __file__, 1, "scored %s of %d", ("3", 4), None)
    record.created = 1_780_000_000.25
    record.__dict__.update(extra)
    return record


def test_json_formatter_writes_one_object_with_the_extras():
    line = JsonFormatter().format(_record(submission_id=58, phase=timezone.datetime(2026, 1, 2)))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-05-28T20:26:40.250+00:00", "level": "WARNING", "logger": "arena.submissions",
        "message": "scored 3 of 4", "submission_id": 58, "phase": "2026-01-02 00:00:00",
    }


def test_json_formatter_keeps_the_traceback_on_the_line():
    try:
        raise ValueError("bad reference")
    except ValueError:
        record = logging.LogRecord("arena", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed"
    assert entry["exception"].startswith("Traceback") and entry["exception"].endswith("ValueError: bad reference")


def test_json_formatter_names_the_task_and_its_submission():
    """Inside a Celery task, a line carries the task and the submission it works on."""
    lines = []

    @current_app.task(name="tests.log_format_probe", shared=False)
    def probe(submission_id: int, token: str = "") -> None:
        lines.append(JsonFormatter().format(_record()))

    probe.apply(args=[77, "tok"], task_id="task-1")
    entry = json.loads(lines[0])
    assert (entry["task"], entry["task_id"], entry["submission_id"]) == ("tests.log_format_probe", "task-1", 77)
    probe.apply(kwargs={"submission_id": 78}, task_id="task-2")
    assert json.loads(lines[1])["submission_id"] == 78
    assert "task" not in json.loads(JsonFormatter().format(_record()))  # outside a task


def _log_line(log_format: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "ARENA_LOG_FORMAT"}
    if log_format is not None:
        env["ARENA_LOG_FORMAT"] = log_format
    env.update(DJANGO_SETTINGS_MODULE="arena.config.settings.test", PYTHONPATH=f"{REPO}:{REPO / 'platform'}")
    code = ("import django, logging; django.setup(); "
            "logging.getLogger('arena.ops').warning('queue %s is long', 'score', extra={'submission_id': 9})")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_arena_log_format_json_makes_the_site_log_json_lines():
    result = _log_line("json")
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert {key: entry[key] for key in ("level", "logger", "message", "submission_id")} == {
        "level": "WARNING", "logger": "arena.ops", "message": "queue score is long", "submission_id": 9}
    assert set(entry) == {"time", "level", "logger", "message", "submission_id"}


def test_logs_stay_plain_by_default_and_a_wrong_format_is_refused():
    plain = _log_line(None)
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.strip().splitlines()[-1].endswith(" WARNING arena.ops queue score is long")
    wrong = _log_line("yaml")
    assert wrong.returncode != 0 and "ARENA_LOG_FORMAT='yaml': use plain or json" in wrong.stderr
