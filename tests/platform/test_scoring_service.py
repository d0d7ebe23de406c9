"""The scoring service: both splits, exactly once, and clear failures."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from arena.submissions.models import Submission, SubmissionScore
from arena.submissions.models import SubmissionStatus as S
from arena.submissions.services import lifecycle
from arena.submissions.services.reconcile import submissions_reconcile
from arena.submissions.services.scoring import MISCONFIGURED_MESSAGE, submission_score
from tests.platform.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


def _queued(**kwargs) -> Submission:
    sub = SubmissionFactory(**kwargs)
    assert lifecycle.submission_mark_queued(submission_id=sub.pk)
    return sub


def test_scores_public_and_private_splits_separately():
    sub = _queued()
    assert submission_score(submission_id=sub.pk) == S.SCORED
    scores = {s.split: s for s in SubmissionScore.objects.filter(submission=sub)}
    # public: s1..s3 happy/sad/angry predicted happy/happy/angry -> F1 2/3, 0, 1 (weights 1/3 each)
    assert scores["public"].score == pytest.approx(5 / 9, rel=1e-12)
    # private: s4 neutral -> neutral (F1 1), s5 worried -> sad (F1 0)
    assert scores["private"].score == pytest.approx(0.5, rel=1e-12)
    assert scores["public"].metrics["waf"] == scores["public"].score
    sub.refresh_from_db()
    assert (sub.status, sub.attempts, sub.error_message) == (S.SCORED, 1, "")


def test_running_twice_scores_once():
    sub = _queued()
    submission_score(submission_id=sub.pk)
    first = list(SubmissionScore.objects.filter(submission=sub).values_list("pk", "computed_at"))
    assert submission_score(submission_id=sub.pk) == S.SCORED
    assert list(SubmissionScore.objects.filter(submission=sub).values_list("pk", "computed_at")) == first
    assert Submission.objects.get(pk=sub.pk).attempts == 1


def test_takes_over_after_a_worker_died_mid_scoring():
    sub = _queued()
    lifecycle.submission_mark_scoring(submission_id=sub.pk)  # the dead worker got this far
    assert submission_score(submission_id=sub.pk) == S.SCORED
    assert SubmissionScore.objects.filter(submission=sub).count() == 2


def test_malformed_prediction_fails_with_the_scorers_row_message():
    sub = _queued(file=ContentFile(b"name,discrete\ns1,happy\ns2,elated\n", name="p.csv"))
    assert submission_score(submission_id=sub.pk) == S.FAILED
    sub.refresh_from_db()
    assert "line 3" in sub.error_message and "elated" in sub.error_message
    assert not SubmissionScore.objects.filter(submission=sub).exists()


def test_misconfigured_track_hides_the_detail_from_the_team():
    sub = _queued()
    track = sub.phase.track
    track.scorer_options = {"no_such_option": 1}
    track.save()
    assert submission_score(submission_id=sub.pk) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message == MISCONFIGURED_MESSAGE
    assert "no_such_option" in sub.error_detail


def test_cancelled_submissions_are_not_scored():
    sub = _queued()
    lifecycle.submission_mark_cancelled(submission_id=sub.pk, message="stop")
    assert submission_score(submission_id=sub.pk) == S.CANCELLED
    assert not SubmissionScore.objects.filter(submission=sub).exists()


def test_attempt_cap_fails_with_a_clear_message(settings):
    settings.ARENA_MAX_ATTEMPTS = 2
    sub = _queued()
    lifecycle.submission_mark_scoring(submission_id=sub.pk)
    Submission.objects.filter(pk=sub.pk).update(attempts=2)
    assert submission_score(submission_id=sub.pk) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message.startswith("Scoring was interrupted 2 times")


def test_reconciler_requeues_stale_and_fails_exhausted(settings, django_capture_on_commit_callbacks):
    settings.ARENA_SCORING_DEADLINE_SECONDS = 60
    settings.ARENA_MAX_ATTEMPTS = 3
    stale = _queued()
    exhausted = _queued()
    fresh = _queued()
    old = timezone.now() - timedelta(minutes=5)
    Submission.objects.filter(pk__in=[stale.pk, exhausted.pk]).update(status_changed_at=old)
    Submission.objects.filter(pk=exhausted.pk).update(attempts=3)
    with django_capture_on_commit_callbacks() as callbacks:
        assert submissions_reconcile() == {"requeued": 1, "failed": 1}
    assert len(callbacks) == 1
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses[stale.pk] == S.QUEUED and statuses[fresh.pk] == S.QUEUED
    assert statuses[exhausted.pk] == S.FAILED
    assert Submission.objects.get(pk=stale.pk).status_changed_at > old
    assert "did not complete after 3 attempts" in Submission.objects.get(pk=exhausted.pk).error_message


def test_team_is_emailed_the_result(mailoutbox, django_capture_on_commit_callbacks):
    from tests.platform.factories import TeamFactory, UserFactory

    member = UserFactory(email="member@example.org")
    sub = _queued(team=TeamFactory(members=[member]))
    sub.team.challenge = sub.phase.track.challenge
    with django_capture_on_commit_callbacks(execute=True):
        submission_score(submission_id=sub.pk)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["member@example.org"]
    assert "scored 0.5556" in mailoutbox[0].subject and f"/submissions/{sub.pk}/" in mailoutbox[0].body
    bad = _queued(team=sub.team, file=ContentFile(b"name,discrete\ns1,elated\n", name="p.csv"))
    with django_capture_on_commit_callbacks(execute=True):
        submission_score(submission_id=bad.pk)
    assert "could not be scored" in mailoutbox[1].subject and "elated" in mailoutbox[1].body


def test_scoring_puts_the_entry_on_the_leaderboard_in_the_same_transaction():
    from arena.leaderboards.models import LeaderboardEntry

    sub = _queued()
    submission_score(submission_id=sub.pk)
    entry = LeaderboardEntry.objects.get(phase=sub.phase, split="public")
    assert (entry.submission_id, entry.rank, entry.score) == (sub.pk, 1, pytest.approx(5 / 9))


def test_a_broken_reference_is_not_blamed_on_the_team():
    sub = _queued()
    phase = sub.phase
    phase.reference_private.save("bad.csv", ContentFile(b"name,discrete\ns4,joyful\n"), save=True)
    assert submission_score(submission_id=sub.pk) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message == MISCONFIGURED_MESSAGE
    assert "joyful" in sub.error_detail
