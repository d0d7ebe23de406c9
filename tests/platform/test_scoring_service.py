"""The scoring service: both splits, exactly once, and clear failures."""

import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import OperationalError
from django.utils import timezone

from arena.submissions.models import Submission, SubmissionScore
from arena.submissions.models import SubmissionStatus as S
from arena.submissions.services import lifecycle, scoring
from arena.submissions.services.reconcile import submissions_reconcile
from arena.submissions.services.scoring import MISCONFIGURED_MESSAGE, submission_score
from tests.faults.site import SCORED_LINE
from tests.platform.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


def _queued(**kwargs) -> Submission:
    sub = SubmissionFactory(**kwargs)
    assert lifecycle.submission_mark_queued(submission_id=sub.pk)
    return sub


def _score(sub: Submission) -> str:
    """What the task does with the message of the submission's current turn."""
    token = Submission.objects.values_list("claim_token", flat=True).get(pk=sub.pk)
    return submission_score(submission_id=sub.pk, token=token)


def test_scores_public_and_private_splits_separately():
    sub = _queued()
    assert _score(sub) == S.SCORED
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
    _score(sub)
    first = list(SubmissionScore.objects.filter(submission=sub).values_list("pk", "computed_at"))
    assert _score(sub) == S.SCORED
    assert list(SubmissionScore.objects.filter(submission=sub).values_list("pk", "computed_at")) == first
    assert Submission.objects.get(pk=sub.pk).attempts == 1


def test_a_duplicate_message_of_a_held_submission_changes_nothing():
    sub = _queued()
    token = Submission.objects.get(pk=sub.pk).claim_token
    assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)  # another worker has it
    assert submission_score(submission_id=sub.pk, token=token) == S.SCORING
    sub.refresh_from_db()
    assert (sub.status, sub.attempts, sub.claim_token) == (S.SCORING, 1, token)
    assert not SubmissionScore.objects.filter(submission=sub).exists()


def test_a_stale_token_cannot_finish_after_the_submission_was_taken_back(settings):
    sub = _queued()
    old = Submission.objects.get(pk=sub.pk).claim_token
    assert lifecycle.submission_claim(submission_id=sub.pk, token=old, to=S.SCORING)
    Submission.objects.filter(pk=sub.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert submissions_reconcile() == {"requeued": 1, "failed": 0}  # the first worker went quiet
    from arena.submissions.services.scoring import submission_score_held

    assert submission_score_held(submission_id=sub.pk, token=old) == S.QUEUED  # it wakes up: nothing written
    assert not SubmissionScore.objects.filter(submission=sub).exists()
    assert _score(sub) == S.SCORED  # the new turn scores it
    sub.refresh_from_db()
    assert (sub.status, sub.attempts) == (S.SCORED, 2)
    assert SubmissionScore.objects.filter(submission=sub).count() == 2


def test_malformed_prediction_fails_with_the_scorers_row_message():
    sub = _queued(file=ContentFile(b"name,discrete\ns1,happy\ns2,elated\n", name="p.csv"))
    assert _score(sub) == S.FAILED
    sub.refresh_from_db()
    assert "line 3" in sub.error_message and "elated" in sub.error_message
    assert not SubmissionScore.objects.filter(submission=sub).exists()


def test_misconfigured_track_hides_the_detail_from_the_team():
    sub = _queued()
    track = sub.phase.track
    track.scorer_options = {"no_such_option": 1}
    track.save()
    assert _score(sub) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message == MISCONFIGURED_MESSAGE
    assert "no_such_option" in sub.error_detail


def test_cancelled_submissions_are_not_scored():
    sub = _queued()
    lifecycle.submission_mark_cancelled(submission_id=sub.pk, message="stop")
    assert _score(sub) == S.CANCELLED
    assert not SubmissionScore.objects.filter(submission=sub).exists()


def test_attempt_cap_fails_with_a_clear_message(settings):
    settings.ARENA_MAX_ATTEMPTS = 2
    sub = _queued()
    Submission.objects.filter(pk=sub.pk).update(attempts=2)  # two workers died with it
    assert _score(sub) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message.startswith("Scoring was interrupted 2 times")


def test_reconciler_takes_back_lapsed_leases_and_fails_exhausted(settings, django_capture_on_commit_callbacks):
    from tests.platform.factories import TeamFactory, UserFactory

    settings.ARENA_MAX_ATTEMPTS = 3
    stale, fresh, waiting = _queued(), _queued(), _queued()
    exhausted = _queued(team=TeamFactory(members=[UserFactory(email="member@example.org")]))
    for sub in (stale, exhausted, fresh):
        token = Submission.objects.get(pk=sub.pk).claim_token
        assert lifecycle.submission_claim(submission_id=sub.pk, token=token, to=S.SCORING)
    lapsed = timezone.now() - timedelta(seconds=1)
    Submission.objects.filter(pk__in=[stale.pk, exhausted.pk]).update(lease_expires_at=lapsed)
    Submission.objects.filter(pk=exhausted.pk).update(attempts=3)
    old_token = Submission.objects.get(pk=stale.pk).claim_token
    with django_capture_on_commit_callbacks() as callbacks:
        assert submissions_reconcile() == {"requeued": 1, "failed": 1}
    assert len(callbacks) == 2  # the re-queued task is sent, the team of the failed one e-mailed
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert (statuses[stale.pk], statuses[fresh.pk], statuses[waiting.pk]) == (S.QUEUED, S.SCORING, S.QUEUED)
    assert statuses[exhausted.pk] == S.FAILED
    assert Submission.objects.get(pk=stale.pk).claim_token not in (None, old_token)
    assert "did not complete after 3 attempts" in Submission.objects.get(pk=exhausted.pk).error_message


def test_team_is_emailed_the_result(mailoutbox, django_capture_on_commit_callbacks):
    from tests.platform.factories import TeamFactory, UserFactory

    member = UserFactory(email="member@example.org")
    sub = _queued(team=TeamFactory(members=[member]))
    sub.team.challenge = sub.phase.track.challenge
    with django_capture_on_commit_callbacks(execute=True):
        _score(sub)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["member@example.org"]
    assert "scored 0.5556" in mailoutbox[0].subject and f"/submissions/{sub.pk}/" in mailoutbox[0].body
    bad = _queued(team=sub.team, file=ContentFile(b"name,discrete\ns1,elated\n", name="p.csv"))
    with django_capture_on_commit_callbacks(execute=True):
        _score(bad)
    assert "could not be scored" in mailoutbox[1].subject and "elated" in mailoutbox[1].body


def test_scoring_puts_the_entry_on_the_leaderboard_in_the_same_transaction():
    from arena.leaderboards.models import LeaderboardEntry

    sub = _queued()
    _score(sub)
    entry = LeaderboardEntry.objects.get(phase=sub.phase, split="public")
    assert (entry.submission_id, entry.rank, entry.score) == (sub.pk, 1, pytest.approx(5 / 9))


def test_a_broken_reference_is_not_blamed_on_the_team():
    sub = _queued()
    phase = sub.phase
    phase.reference_private.save("bad.csv", ContentFile(b"name,discrete\ns4,joyful\n"), save=True)
    assert _score(sub) == S.FAILED
    sub.refresh_from_db()
    assert sub.error_message == MISCONFIGURED_MESSAGE
    assert "joyful" in sub.error_detail


def test_a_misconfigured_phase_alerts_its_organisers_and_tells_the_team_without_details(
        mailoutbox, django_capture_on_commit_callbacks):
    from tests.platform.factories import TeamFactory, UserFactory

    organiser = UserFactory(email="organiser@example.org")
    sub = _queued(team=TeamFactory(members=[UserFactory(email="member@example.org")]))
    sub.phase.track.challenge.organisers.add(organiser)
    sub.phase.reference_private.save("bad.csv", ContentFile(b"name,discrete\ns4,joyful\n"), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert _score(sub) == S.FAILED
    by_recipient = {tuple(mail.to): mail for mail in mailoutbox}
    assert set(by_recipient) == {("member@example.org",), ("organiser@example.org",)}
    team_mail, organiser_mail = by_recipient[("member@example.org",)], by_recipient[("organiser@example.org",)]
    assert MISCONFIGURED_MESSAGE in team_mail.body and "joyful" not in team_mail.body
    assert "joyful" in organiser_mail.body and f"Submission #{sub.pk}" in organiser_mail.body


def test_attempts_used_up_by_dead_workers_fail_through_the_one_failure_path(
        settings, mailoutbox, django_capture_on_commit_callbacks):
    from tests.platform.factories import TeamFactory, UserFactory

    settings.ARENA_MAX_ATTEMPTS = 1
    sub = _queued(team=TeamFactory(members=[UserFactory(email="member@example.org")]))
    Submission.objects.filter(pk=sub.pk).update(attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert _score(sub) == S.FAILED
    assert [mail.to for mail in mailoutbox] == [["member@example.org"]]
    assert "Scoring was interrupted 1 times" in mailoutbox[0].body


def test_a_message_for_a_deleted_submission_ends_quietly():
    from arena.submissions.services.sandbox_run import submission_run_container

    sub = _queued()
    token = Submission.objects.values_list("claim_token", flat=True).get(pk=sub.pk)
    Submission.objects.filter(pk=sub.pk).delete()
    assert submission_score(submission_id=sub.pk, token=token) == lifecycle.GONE == "gone"
    assert submission_run_container(submission_id=sub.pk, token=token) == "gone"


def test_a_result_e_mail_lost_to_the_database_leaves_one_scored_line(monkeypatch, caplog):
    """The database goes away just after the scoring committed: the e-mail is lost, the scoring stands, and
    the log still says "submission N scored" once (the fault suites count those lines as commits)."""
    sub = _queued()

    def database_away(**kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(scoring, "notify_team_of_result", database_away)
    with caplog.at_level(logging.INFO, logger="arena.submissions.services.scoring"):
        assert _score(sub) == S.SCORED
    assert Submission.objects.get(pk=sub.pk).status == S.SCORED
    lines = [record.getMessage() for record in caplog.records]
    assert [line for line in lines if SCORED_LINE.search(line)] == [f"submission {sub.pk} scored"]
    assert f"the result e-mail of submission {sub.pk} was not sent (the scoring stands): the database went away" \
        in lines
