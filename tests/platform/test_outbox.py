"""The dispatch outbox: a committed submission is answered whatever the broker does, and is sent (and,
when its message is lost, sent again with growing intervals) until a worker claims it."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.queueing import submissions_dispatch_pending
from tests.faults.servers import free_port
from tests.platform.factories import PhaseFactory, SubmissionFactory, UserFactory, ready_team
from tests.platform.worker import isolated_redis_url, switch_broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker]

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


@contextmanager
def broker(url: str):
    from arena.config.celery import app

    old = app.conf.broker_url
    switch_broker(app, url)
    try:
        yield
    finally:
        switch_broker(app, old)


def _score_messages(url: str) -> list[list]:
    """The arguments (submission id, claim token) of every task message waiting on the score queue."""
    messages = []
    for raw in redis.Redis.from_url(url).lrange("score", 0, -1):
        args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
        messages.append(args)
    return messages


def _redis_url() -> str:
    from tests.conftest import require

    try:
        return isolated_redis_url()
    except redis.ConnectionError:
        require(False, "needs Redis on 127.0.0.1:6379")


def test_an_upload_is_answered_201_with_the_broker_down_and_waits_in_the_outbox(client):
    phase = PhaseFactory()
    user = UserFactory()
    ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    with broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        def upload():
            return client.post(f"/api/v1/phases/{phase.pk}/submissions",
                               {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": "run"},
                               headers={"Idempotency-Key": "k1"})

        response, again = upload(), upload()
        assert submissions_dispatch_pending(now=timezone.now() + timedelta(minutes=1)) == {"sent": 0, "resent": 0}
    assert (response.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == response.json()["id"]
    submission = Submission.objects.get()
    assert (submission.status, submission.dispatched_at, submission.dispatch_count) == (
        SubmissionStatus.QUEUED, None, 0)


def test_the_dispatcher_sends_waiting_work_then_resends_lost_messages_with_growing_intervals(settings):
    url = _redis_url()
    settings.ARENA_REDISPATCH_SECONDS = 60
    waiting = SubmissionFactory()
    # Queued, and the send that follows the commit failed: the row waits in the outbox.
    token = str(lifecycle.submission_mark_queued(submission_id=waiting.pk))
    now = timezone.now() + timedelta(seconds=10)
    with broker(url):
        redis.Redis.from_url(url).delete("score")
        assert submissions_dispatch_pending(now=now) == {"sent": 1, "resent": 0}
        assert _score_messages(url) == [[waiting.pk, token]]
        assert submissions_dispatch_pending(now=now) == {"sent": 0, "resent": 0}  # sent, not yet overdue

        def after(seconds: int) -> dict:
            Submission.objects.filter(pk=waiting.pk).update(dispatched_at=now - timedelta(seconds=seconds))
            return submissions_dispatch_pending(now=now)

        assert after(59) == {"sent": 0, "resent": 0}
        assert after(61) == {"sent": 0, "resent": 1}  # no worker claimed it within a minute: lost
        assert after(61) == {"sent": 0, "resent": 0}  # the second re-send waits two minutes
        assert after(121) == {"sent": 0, "resent": 1}
        assert after(239) == {"sent": 0, "resent": 0}
        assert after(241) == {"sent": 0, "resent": 1}
        assert _score_messages(url) == [[waiting.pk, token]] * 4  # copies of one turn: one claim wins
    assert Submission.objects.get(pk=waiting.pk).dispatch_count == 4
