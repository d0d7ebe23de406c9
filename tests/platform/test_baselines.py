"""Organisers' baselines: uploaded in the admin, checked and scored like entries, marked and unranked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arena.audit.models import AuditEntry
from arena.core.errors import DomainError, PermissionDenied
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.selectors import submission_limits_of
from arena.submissions.services.baselines import baseline_create
from arena.submissions.services.create import MethodInfo, submission_check_file, submission_create
from arena.submissions.services.scoring import submission_score
from tests.platform.factories import ChallengeFactory, PhaseFactory, TrackFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

PERFECT = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"
HALF = b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,sad\n"


@pytest.fixture
def w():
    organiser, other_organiser, member = UserFactory(username="org"), UserFactory(username="other-org"), UserFactory()
    challenge = ChallengeFactory(organisers=[organiser], slug="mer")
    ChallengeFactory(organisers=[other_organiser], slug="other")
    phase = PhaseFactory(track=TrackFactory(challenge=challenge, slug="discrete", max_total=1, max_in_flight=1,
                                            max_per_day=1), slug="validation")
    team = ready_team(challenge=challenge, members=[member], name="Team A")
    return {"organiser": organiser, "other_organiser": other_organiser, "member": member, "phase": phase,
            "team": team, "url": reverse("admin:challenges_phase_add_baseline", args=[phase.pk])}


def _upload(data: bytes, name: str = "baseline.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _score(submission: Submission) -> str:
    """What the scoring task does with the message the outbox sends (as tests/platform/test_scoring_service.py)."""
    submission.refresh_from_db()
    return submission_score(submission_id=submission.pk, token=submission.claim_token)


def test_an_organiser_adds_a_baseline_in_the_admin_and_it_is_scored_marked_and_unranked(
        client, w, django_capture_on_commit_callbacks):
    phase = w["phase"]
    client.force_login(w["organiser"])
    assert w["url"] in client.get(reverse("admin:challenges_phase_change", args=[phase.pk])).content.decode()
    assert client.get(w["url"]).status_code == 200
    with django_capture_on_commit_callbacks() as sent:
        response = client.post(w["url"], {"method_name": "Official baseline", "description": "wav2vec2 + MLP",
                                          "file": _upload(PERFECT)})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:challenges_phase_change", args=[phase.pk])
    baseline = Submission.objects.get(phase=phase)
    assert (baseline.is_baseline, baseline.team, baseline.submitted_by, baseline.kind, baseline.status) == (
        True, None, w["organiser"], "file", SubmissionStatus.QUEUED)
    assert (baseline.method_name, baseline.method_description, baseline.file_name, baseline.file_size) == (
        "Official baseline", "wav2vec2 + MLP", "baseline.csv", len(PERFECT))
    assert baseline.claim_token is not None and baseline.dispatched_at is None  # in the outbox
    assert len(sent) == 1  # its task is sent once the upload commits
    entry = AuditEntry.objects.get(action="submission.create_baseline")
    assert (entry.actor, entry.target_id, entry.challenge) == (w["organiser"], str(baseline.pk),
                                                                phase.track.challenge)
    assert entry.details["phase"] == phase.pk and entry.details["size"] == len(PERFECT)

    team_entry, _ = submission_create(user=w["member"], phase=phase, file_name="p.csv",
                                      stream=_upload(HALF), method=MethodInfo("MLP"))
    assert _score(baseline) == SubmissionStatus.SCORED
    assert _score(team_entry) == SubmissionStatus.SCORED

    client.logout()  # the public board
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    assert [(e["rank"], e["is_baseline"], e["team_name"] or None, e["method_name"], e["score"])
            for e in board["entries"]] == [(None, True, None, "Official baseline", 1.0),
                                           (1, False, "Team A", "MLP", pytest.approx(5 / 9))]
    page = client.get("/c/mer/t/discrete/p/validation/leaderboard/").content.decode()
    assert '<span class="badge">baseline</span>' in page and "Official baseline" in page


def test_two_baselines_per_phase_use_no_teams_limits(w):
    phase, team = w["phase"], w["team"]
    first = baseline_create(actor=w["organiser"], phase=phase, method_name="Majority class", file=_upload(HALF))
    second = baseline_create(actor=w["organiser"], phase=phase, method_name="Official baseline",
                             file=_upload(PERFECT))
    assert {first.status, second.status} == {SubmissionStatus.QUEUED}
    assert Submission.objects.filter(phase=phase, is_baseline=True, team=None).count() == 2
    assert [use.used for use in submission_limits_of(team=team, phase=phase)] == [0, 0, 0]
    # The team's only submission (max_total=1, max_in_flight=1) is still open to it.
    entry, created = submission_create(user=w["member"], phase=phase, file_name="p.csv", stream=_upload(HALF),
                                       method=MethodInfo("MLP"))
    assert created and entry.team == team


@pytest.mark.parametrize("who", ["participant", "other_organiser"])
def test_a_participant_or_another_challenges_organiser_cannot_add_a_baseline(client, w, who):
    user = w["member"] if who == "participant" else w["other_organiser"]
    client.force_login(user)
    before = (Submission.objects.count(), AuditEntry.objects.count())
    get, post = client.get(w["url"]), client.post(w["url"], {"method_name": "Mine", "file": _upload(PERFECT)})
    if who == "participant":  # not staff: sent to the admin login
        assert (get.status_code, post.status_code) == (302, 302)
        assert post["Location"].startswith(reverse("admin:login"))
    else:
        assert (get.status_code, post.status_code) == (404, 404)
    with pytest.raises(PermissionDenied):
        baseline_create(actor=user, phase=w["phase"], method_name="Mine", file=_upload(PERFECT))
    assert (Submission.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(("data", "name"), [
    (b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns9,worried\n", "unknown-key.csv"),
    (b"name,discrete\ns1,happy\ns2,elated\ns3,angry\ns4,neutral\ns5,worried\n", "bad-label.csv"),
    (b"", "empty.csv"),
])
def test_an_invalid_file_gets_the_team_upload_message_and_nothing_is_created(client, w, data, name):
    phase = w["phase"]
    client.force_login(w["organiser"])
    before = (Submission.objects.count(), AuditEntry.objects.count())
    response = client.post(w["url"], {"method_name": "Official baseline", "file": _upload(data, name)})
    assert response.status_code == 400
    if data:
        with pytest.raises(DomainError) as refused:  # what a team's upload of the file is told
            submission_check_file(phase=phase, data=data)
        assert response.context["form"].errors == {"file": [refused.value.message]}
    else:  # Django's file field refuses an empty upload before the service sees it
        assert list(response.context["form"].errors) == ["file"]
        with pytest.raises(DomainError, match="The uploaded file is empty"):
            baseline_create(actor=w["organiser"], phase=phase, method_name="B", file=_upload(data, name))
    assert (Submission.objects.count(), AuditEntry.objects.count()) == before


def test_a_baseline_needs_a_name(w):
    with pytest.raises(DomainError) as refused:
        baseline_create(actor=w["organiser"], phase=w["phase"], method_name="  ", file=_upload(PERFECT))
    assert refused.value.details == {"field": "method_name"}
    assert not Submission.objects.exists()
