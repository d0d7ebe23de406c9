"""A wrong reference forced past the form is the organisers' problem: the team gets a neutral message,
the organisers one summary e-mail per phase and hour, and the submissions re-queue by themselves once the
phase is fixed."""

from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.submissions.models import FailureCause, MisconfigurationAlert, Submission, SubmissionScore
from arena.submissions.models import SubmissionStatus as S
from arena.submissions.services import lifecycle
from arena.submissions.services.misconfiguration import submissions_requeue_misconfigured
from arena.submissions.services.scoring import MISCONFIGURED_MESSAGE, submission_score
from arena.submissions.tasks import handle_misconfigured_submissions
from tests.platform.clock import clock  # noqa: F401
from tests.platform.factories import (
    DISCRETE_PRIVATE,
    LicenceFactory,
    PhaseFactory,
    SubmissionFactory,
    UserFactory,
    ready_team,
)

pytestmark = pytest.mark.django_db

# An abaw.va reference uploaded to a MER track: its header and rows must never reach the team.
WRONG_REFERENCE = b"image_location,valence,arousal\nsecret-clip/00001.jpg,0.25,-0.5\n"


@pytest.fixture
def world(clock):  # noqa: F811
    organiser = UserFactory(username="organiser", email="organiser@example.org")
    member = UserFactory(username="member", email="member@example.org")
    phase = PhaseFactory(track__challenge__organisers=[organiser], track__challenge__slug="mer",
                         track__challenge__starts_at=timezone.now() - timedelta(days=2),
                         track__title="Discrete", title="Validation")
    challenge = phase.track.challenge
    LicenceFactory(challenge=challenge)
    team = ready_team(challenge=challenge, members=[member])
    submissions = [SubmissionFactory(phase=phase, team=team) for _ in range(3)]
    for submission in submissions:
        assert lifecycle.submission_mark_queued(submission_id=submission.pk)
    # Written to the field directly: the phase form would have refused it.
    phase.reference_private.save("wrong.csv", ContentFile(WRONG_REFERENCE), save=True)
    return {"organiser": organiser, "member": member, "phase": phase, "submissions": submissions,
            "clock": clock}


def _score(submission) -> str:
    token = Submission.objects.values_list("claim_token", flat=True).get(pk=submission.pk)
    return submission_score(submission_id=submission.pk, token=token)


def _mails_to(mailoutbox, address: str):
    return [mail for mail in mailoutbox if mail.to == [address]]


def test_failures_on_a_wrong_reference_are_neutral_for_the_team_and_summarised_for_the_organisers(
        client, world, mailoutbox, django_capture_on_commit_callbacks):
    moment, (first, second, third) = world["clock"], world["submissions"]
    with django_capture_on_commit_callbacks(execute=True):
        assert _score(first) == S.FAILED
        moment.advance(minutes=20)
        assert _score(second) == S.FAILED
        moment.advance(minutes=30)
        assert _score(third) == S.FAILED
    for submission in world["submissions"]:
        submission.refresh_from_db()
        assert (submission.status, submission.failure_cause, submission.error_message) == (
            S.FAILED, FailureCause.CONFIGURATION, MISCONFIGURED_MESSAGE)
        assert "image_location" in submission.error_detail  # the organisers see what is wrong

    team_mails = _mails_to(mailoutbox, "member@example.org")
    assert len(team_mails) == 3
    for mail in team_mails:
        assert MISCONFIGURED_MESSAGE in mail.body
        assert "image_location" not in mail.body and "secret-clip" not in mail.body
    client.force_login(world["member"])
    body = client.get(f"/api/v1/submissions/{first.pk}").json()
    assert body["status"] == "failed" and body["error_message"] == MISCONFIGURED_MESSAGE
    assert "image_location" not in str(body) and "secret-clip" not in str(body)

    # Three failures within the hour: one e-mail to the organisers, sent with the first.
    organiser_mails = _mails_to(mailoutbox, "organiser@example.org")
    title = first.phase.track.challenge.title
    assert [mail.subject for mail in organiser_mails] == [
        f"[{title}] Discrete / Validation: a submission could not be scored"]
    assert f"Submission #{first.pk} failed with:" in organiser_mails[0].body
    assert "image_location" in organiser_mails[0].body
    alert = MisconfigurationAlert.objects.get(phase=world["phase"])
    assert (alert.pending_count, alert.pending_submission_ids) == (2, [second.pk, third.pk])

    # The beat sends nothing before the hour is up, then one summary of the two others.
    with django_capture_on_commit_callbacks(execute=True):
        assert handle_misconfigured_submissions() == {"alerts": 0, "requeued": 0}
    assert len(_mails_to(mailoutbox, "organiser@example.org")) == 1
    moment.advance(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert handle_misconfigured_submissions() == {"alerts": 1, "requeued": 0}
    summary = _mails_to(mailoutbox, "organiser@example.org")[1]
    assert summary.subject.endswith("Discrete / Validation: 2 submissions could not be scored")
    assert f"2 submission(s) to Discrete / Validation failed because of the phase's configuration, not the " \
           f"teams' files: #{second.pk}, #{third.pk}." in summary.body
    assert f"Submission #{second.pk} failed with:\n\nreference of phase {world['phase'].pk}:" in summary.body
    with django_capture_on_commit_callbacks(execute=True):
        assert handle_misconfigured_submissions() == {"alerts": 0, "requeued": 0}
    assert len(_mails_to(mailoutbox, "organiser@example.org")) == 2


def test_a_failure_an_hour_after_the_last_alert_is_sent_at_once(world, mailoutbox,
                                                                 django_capture_on_commit_callbacks):
    moment, (first, second, _) = world["clock"], world["submissions"]
    with django_capture_on_commit_callbacks(execute=True):
        _score(first)
        moment.advance(minutes=61)
        _score(second)
    assert len(_mails_to(mailoutbox, "organiser@example.org")) == 2


def _phase_post(client, phase, **files) -> dict:
    """What the admin's phase form posts when the organiser changes nothing but ``files``."""
    page = client.get(reverse("admin:challenges_phase_change", args=[phase.pk]))
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name in ("reference_public", "reference_private", "candidates", "container_inputs", "condition_map"):
            continue
        if isinstance(value, datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
                     f"{prefix}-MAX_NUM_FORMS": 1000})
    data.update(files)
    return data


def test_fixing_the_reference_in_the_admin_requeues_the_failed_submissions(
        client, world, django_capture_on_commit_callbacks):
    phase, organiser = world["phase"], world["organiser"]
    with django_capture_on_commit_callbacks(execute=True):
        for submission in world["submissions"]:
            assert _score(submission) == S.FAILED
    scored_elsewhere = SubmissionFactory(phase=phase, team=world["submissions"][0].team)  # a team failure
    lifecycle.submission_mark_queued(submission_id=scored_elsewhere.pk)
    Submission.objects.filter(pk=scored_elsewhere.pk).update(status=S.FAILED, failure_cause=FailureCause.SUBMISSION)

    # Still broken: the beat re-queues nothing.
    assert submissions_requeue_misconfigured(phase=phase) == 0
    assert set(Submission.objects.filter(phase=phase).values_list("status", flat=True)) == {S.FAILED}

    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("admin:challenges_phase_change", args=[phase.pk]), _phase_post(
            client, phase, reference_private=SimpleUploadedFile("private.csv", DISCRETE_PRIVATE)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    ids = [s.pk for s in world["submissions"]]
    assert list(Submission.objects.filter(pk__in=ids).order_by("pk").values_list("status", "failure_cause")) == [
        (S.QUEUED, "")] * 3
    assert Submission.objects.get(pk=scored_elsewhere.pk).status == S.FAILED  # the team's own failure stays
    entry = AuditEntry.objects.get(action="submission.requeue_misconfigured")
    assert (entry.actor, entry.target_id, entry.details) == (organiser, str(phase.pk), {"submissions": ids})
    assert not AuditEntry.objects.filter(action="challenge.publish_not_ready").exists()

    for submission in world["submissions"]:
        assert _score(submission) == S.SCORED
    assert SubmissionScore.objects.filter(submission_id__in=ids).count() == 6
    assert handle_misconfigured_submissions() == {"alerts": 0, "requeued": 0}


def test_the_beat_requeues_once_the_phase_is_ready_again(world, django_capture_on_commit_callbacks):
    phase = world["phase"]
    with django_capture_on_commit_callbacks(execute=True):
        for submission in world["submissions"]:
            _score(submission)
    phase.reference_private.save("private.csv", ContentFile(DISCRETE_PRIVATE), save=True)  # fixed outside the admin
    assert handle_misconfigured_submissions() == {"alerts": 0, "requeued": 3}
    assert set(Submission.objects.filter(phase=phase).values_list("status", "failure_cause")) == {(S.QUEUED, "")}
    entry = AuditEntry.objects.get(action="submission.requeue_misconfigured")
    assert entry.actor is None
