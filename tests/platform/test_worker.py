"""A real worker process scores a submission through a real broker (Redis, RabbitMQ, file system)."""

from __future__ import annotations

import os
import socket

import pytest
from django.db import transaction

from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services.queueing import submission_enqueue
from tests.conftest import require
from tests.platform.factories import SubmissionFactory
from tests.platform.worker import celery_worker, isolated_redis_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker, pytest.mark.postgres]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _score_through_worker(broker_url: str, tmp_path) -> Submission:
    submission = SubmissionFactory()
    with celery_worker(broker_url, log_path=tmp_path / "worker.log"):
        with transaction.atomic():
            assert submission_enqueue(submission=submission)
        wait_for(
            lambda: Submission.objects.get(pk=submission.pk).status == SubmissionStatus.SCORED,
            timeout=60, what="the worker to score the submission", log_path=tmp_path / "worker.log",
        )
    submission.refresh_from_db()
    return submission


def test_worker_scores_through_redis(tmp_path):
    require(_reachable("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379")
    url = isolated_redis_url()
    submission = _score_through_worker(url, tmp_path)
    assert submission.attempts == 1
    assert sorted(SubmissionScore.objects.filter(submission=submission).values_list("split", flat=True)) == [
        "private", "public"]


def test_worker_scores_through_rabbitmq(tmp_path):
    require(_reachable("127.0.0.1", 5672), "needs RabbitMQ on 127.0.0.1:5672")
    url = os.environ.get("ARENA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    submission = _score_through_worker(url, tmp_path)
    assert submission.status == SubmissionStatus.SCORED


def test_worker_scores_through_the_embedded_file_system_broker(tmp_path):
    submission = _score_through_worker("filesystem://", tmp_path)
    assert submission.status == SubmissionStatus.SCORED


@pytest.mark.docker
def test_a_sandbox_worker_sweeps_leftovers_when_it_starts(tmp_path):
    from tests.conftest import require

    log = tmp_path / "worker.log"
    with celery_worker("filesystem://", queues="sandbox", log_path=log):
        wait_for(lambda: "sandbox sweep at start:" in log.read_text(), timeout=60, what="the start-up sweep",
                 log_path=log)
    text = log.read_text()
    require("no container engine answers" not in text, "needs a Docker engine")
    assert "sandbox sweep at start: removed 0 container(s) left by crashed runs" in text


def test_a_scoring_worker_does_not_sweep(tmp_path):
    log = tmp_path / "worker.log"
    with celery_worker("filesystem://", queues="score", log_path=log):
        wait_for(lambda: "ready." in log.read_text(), timeout=60, what="the worker to start", log_path=log)
    assert "sandbox sweep" not in log.read_text()
