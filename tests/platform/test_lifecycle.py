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
    assert lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert lifecycle.submission_mark_scoring(submission_id=sub.pk)
    assert lifecycle.submission_mark_scored(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == S.SCORED
    assert sub.queued_at <= sub.scoring_started_at <= sub.finished_at


def test_transitions_are_compare_and_set():
    sub = SubmissionFactory()
    assert lifecycle.submission_mark_queued(submission_id=sub.pk)
    # A second identical call is a no-op, not a second transition.
    assert not lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert lifecycle.submission_mark_scoring(submission_id=sub.pk)
    assert not lifecycle.submission_mark_scoring(submission_id=sub.pk)
    assert _status(sub) == S.SCORING


@pytest.mark.parametrize("start", [S.SCORED, S.FAILED, S.CANCELLED])
def test_finished_submissions_cannot_be_scored_or_cancelled(start):
    sub = SubmissionFactory(status=start)
    assert not lifecycle.submission_mark_scoring(submission_id=sub.pk)
    assert not lifecycle.submission_mark_scored(submission_id=sub.pk)
    assert not lifecycle.submission_mark_cancelled(submission_id=sub.pk, message="x")
    assert not lifecycle.submission_mark_failed(submission_id=sub.pk, message="x")
    assert _status(sub) == start


def test_scored_requires_scoring_first():
    sub = SubmissionFactory()
    lifecycle.submission_mark_queued(submission_id=sub.pk)
    assert not lifecycle.submission_mark_scored(submission_id=sub.pk)
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
    lifecycle.submission_mark_queued(submission_id=sub.pk)
    lifecycle.submission_mark_scoring(submission_id=sub.pk)
    lifecycle.submission_mark_scored(submission_id=sub.pk)
    assert lifecycle.submission_mark_queued(submission_id=sub.pk, sources=lifecycle.ANY_STATE)
    sub.refresh_from_db()
    assert sub.status == S.QUEUED
    assert sub.scoring_started_at is None and sub.finished_at is None


def test_every_state_has_an_entry_in_the_transition_table():
    assert set(lifecycle.TRANSITIONS) == set(S.values)
