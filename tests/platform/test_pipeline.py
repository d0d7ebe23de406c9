"""The whole path with a real worker and broker: upload -> scoring -> leaderboard, and a killed worker."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from arena.leaderboards.models import LeaderboardEntry
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services.queueing import submission_enqueue
from arena.submissions.services.reconcile import submissions_reconcile
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory, ready_team
from tests.platform.worker import broker_for_tests, celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker, pytest.mark.postgres]

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,sad\n"


def _status(pk: int) -> str:
    return Submission.objects.values_list("status", flat=True).get(pk=pk)


def test_upload_through_the_api_is_scored_by_the_worker_and_ranked(client, tmp_path):
    user = UserFactory()
    phase = PhaseFactory()
    team = ready_team(challenge=phase.track.challenge, members=[user], name="Pipeline team")
    client.force_login(user)
    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), log_path=log):
        response = client.post(f"/api/v1/phases/{phase.pk}/submissions",
                               {"file": ContentFile(GOOD, name="p.csv"), "method_name": "MLP"})
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        wait_for(lambda: _status(pk) == SubmissionStatus.SCORED, timeout=60, what="scoring", log_path=log)
    detail = client.get(f"/api/v1/submissions/{pk}").json()
    assert detail["status"] == "scored"
    assert detail["scores"]["public"]["score"] == 1.0  # s1..s3 all right
    assert "private" not in detail["scores"]  # hidden until the reveal
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    assert [(e["rank"], e["team_name"], e["method_name"]) for e in board["entries"]] == [
        (1, "Pipeline team", "MLP")]
    assert team.submissions.get().finished_at is not None


def test_a_worker_killed_while_scoring_leaves_the_submission_scored_exactly_once(tmp_path, settings):
    # A large candidate pool makes scoring take long enough to be interrupted.
    rows = [f"c{i},happy" for i in range(1_500_000)]
    data = ("name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,sad\n" + "\n".join(rows) + "\n").encode()
    phase = PhaseFactory()
    team = TeamFactory(challenge=phase.track.challenge)
    submission = SubmissionFactory(phase=phase, team=team, file=ContentFile(data, name="big.csv"))
    broker = broker_for_tests()
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with celery_worker(broker, log_path=first_log) as worker:
        with transaction.atomic():
            submission_enqueue(submission=submission)
        wait_for(lambda: _status(submission.pk) == SubmissionStatus.SCORING, timeout=60,
                 what="scoring to start", log_path=first_log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert _status(submission.pk) == SubmissionStatus.SCORING
    assert not SubmissionScore.objects.filter(submission=submission).exists()

    with celery_worker(broker, log_path=second_log):
        # Its lease lapses (nobody renews it), the reconciler re-queues it with a new token; a redelivery
        # of the unacknowledged message may arrive too, and finds a stale token.
        Submission.objects.filter(pk=submission.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert submissions_reconcile() == {"requeued": 1, "failed": 0}
        wait_for(lambda: _status(submission.pk) == SubmissionStatus.SCORED, timeout=120,
                 what="the second worker to score it", log_path=second_log)
    submission.refresh_from_db()
    assert submission.attempts == 2
    assert sorted(SubmissionScore.objects.filter(submission=submission).values_list("split", flat=True)) == [
        "private", "public"]
    assert LeaderboardEntry.objects.filter(phase=phase, split="public").count() == 1
