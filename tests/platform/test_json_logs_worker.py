"""A worker started with ARENA_LOG_FORMAT=json writes JSON lines that name the submission it works on."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services.queueing import submission_enqueue
from tests.platform.factories import SubmissionFactory
from tests.platform.worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker, pytest.mark.postgres]


def test_a_json_logging_worker_names_the_task_and_the_submission(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_LOG_FORMAT", "json")
    log = tmp_path / "worker.log"
    submission = SubmissionFactory()
    # The file-system broker keeps the queue in this test's own folder: the lines are about logging, and a
    # Redis database shared with other test runs on the machine could hand the task to their worker.
    with celery_worker("filesystem://", log_path=log):
        with transaction.atomic():
            assert submission_enqueue(submission=submission)
        wait_for(lambda: Submission.objects.get(pk=submission.pk).status == SubmissionStatus.SCORED,
                 timeout=60, what="the worker to score the submission", log_path=log)
        wait_for(lambda: "succeeded" in log.read_text(), timeout=10, what="the task's last line", log_path=log)
    entries = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    assert entries, log.read_text()
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert "celery.apps.worker" in {entry["logger"] for entry in entries}  # the worker's own lines
    in_task = [entry for entry in entries if entry.get("task") == "arena.submissions.tasks.score_submission"]
    assert in_task, log.read_text()
    assert {entry["submission_id"] for entry in in_task} == {submission.pk}
