import pytest

from arena.submissions.models import Submission
from arena.submissions.models import SubmissionStatus as S
from arena.submissions.services import lifecycle
from tests.platform.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


def _status(sub) -> str:
    return Submission.objects.values_list("status", flat=True).get(pk=sub.pk)


def test_happy_path_sets_each_timestamp_once():
    sub = SubmissionFactory()
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.RUNNING)
    assert lifecycle.submission_mark_scoring(submission_id=sub.pk, token=token)
    assert lifecycle.submission_mark_scored(submission_id=sub.pk, token=token)
    sub.refresh_from_db()
    assert (sub.status, sub.attempts, sub.lease_expires_at) == (S.SCORED, 1, None)
    assert sub.queued_at <= sub.started_at <= sub.scoring_started_at <= sub.finished_at


def test_transitions_are_compare_and_set():
    sub = SubmissionFactory()
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert token is not None and Submission.objects.get(pk=sub.pk).claim_token == token
    # A second identical call is a no-op, not a second transition.
    assert lifecycle.submission_mark_queued(submission_id=sub.pk) is None
    assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    assert not lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    sub.refresh_from_db()
    assert (sub.status, sub.attempts) == (S.SCORING, 1)
    assert sub.lease_expires_at is not None


def test_only_the_current_token_claims_or_finishes():
    sub = SubmissionFactory()
    first = lifecycle.submission_mark_queued(submission_id=sub.pk)
    second = lifecycle.submission_mark_queued(submission_id=sub.pk, sources=[S.QUEUED])
    assert second not in (None, first)
    assert not lifecycle.submission_claim(submission_id=sub.pk, token=first, to=S.SCORING)  # a stale message
    assert lifecycle.submission_claim(submission_id=sub.pk, token=second, to=S.SCORING)
    assert not lifecycle.submission_renew_lease(submission_id=sub.pk, token=first)
    assert lifecycle.submission_renew_lease(submission_id=sub.pk, token=second)
    assert not lifecycle.submission_mark_scored(submission_id=sub.pk, token=first)
    assert not lifecycle.submission_mark_failed(submission_id=sub.pk, message="x", token=first)
    assert _status(sub) == S.SCORING
    assert lifecycle.submission_mark_scored(submission_id=sub.pk, token=second)


def test_release_gives_the_attempt_back_and_draws_a_new_token():
    sub = SubmissionFactory()
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    new_token = lifecycle.submission_release(submission_id=sub.pk, token=token)
    sub.refresh_from_db()
    assert (sub.status, sub.attempts, sub.claim_token, sub.dispatched_at) == (S.QUEUED, 0, new_token, None)
    assert new_token != token
    assert lifecycle.submission_release(submission_id=sub.pk, token=token) is None


@pytest.mark.parametrize("start", [S.SCORED, S.FAILED, S.CANCELLED])
def test_finished_submissions_cannot_be_scored_or_cancelled(start):
    sub = SubmissionFactory(status=start)
    token = Submission.objects.get(pk=sub.pk).claim_token
    assert not lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    assert not lifecycle.submission_mark_scoring(submission_id=sub.pk, token=token)
    assert not lifecycle.submission_mark_scored(submission_id=sub.pk, token=token)
    assert not lifecycle.submission_mark_cancelled(submission_id=sub.pk, message="x")
    assert not lifecycle.submission_mark_failed(submission_id=sub.pk, message="x")
    assert _status(sub) == start


def test_scored_requires_scoring_first():
    sub = SubmissionFactory()
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert not lifecycle.submission_mark_scored(submission_id=sub.pk, token=token)
    assert _status(sub) == S.QUEUED


def test_failure_records_the_message_for_the_team():
    sub = SubmissionFactory()
    lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert lifecycle.submission_mark_failed(submission_id=sub.pk, message="row 3: bad", detail="trace")
    sub.refresh_from_db()
    assert (sub.status, sub.error_message, sub.error_detail) == (S.FAILED, "row 3: bad", "trace")
    assert sub.finished_at is not None


def test_requeue_from_a_finished_state_clears_timings():
    sub = SubmissionFactory()
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    lifecycle.submission_mark_scored(submission_id=sub.pk, token=token)
    assert lifecycle.submission_mark_queued(submission_id=sub.pk, sources=lifecycle.ANY_STATE)
    sub.refresh_from_db()
    assert sub.status == S.QUEUED
    assert sub.scoring_started_at is None and sub.finished_at is None


def test_every_state_has_an_entry_in_the_transition_table():
    assert set(lifecycle.TRANSITIONS) == set(S.values)
