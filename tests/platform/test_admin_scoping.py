"""The organiser admin: each organiser sees and changes only their own challenges."""

import pytest
from django.urls import reverse

from arena.audit.models import AuditEntry
from arena.challenges.models import Challenge, Phase, Track
from arena.participation.models import Participation, ParticipationStatus
from arena.submissions.models import Submission, SubmissionStatus
from tests.platform.factories import (
    ChallengeFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organiser_a, organiser_b = UserFactory(username="org-a"), UserFactory(username="org-b")
    participant = UserFactory(username="participant")
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    a = ChallengeFactory(slug="a", organisers=[organiser_a])
    b = ChallengeFactory(slug="b", organisers=[organiser_b])
    phase_a = PhaseFactory(track=TrackFactory(challenge=a))
    PhaseFactory(track=TrackFactory(challenge=b))
    team_a = TeamFactory(challenge=a, members=[participant], participation=ParticipationStatus.PENDING)
    sub_a = SubmissionFactory(phase=phase_a, team=team_a)
    return {
        "users": {"anonymous": None, "participant": participant, "organiser_a": organiser_a,
                  "organiser_b": organiser_b, "superuser": superuser},
        "a": a, "b": b, "phase_a": phase_a, "team_a": team_a, "sub_a": sub_a,
    }


def _client(client, user):
    if user is not None:
        client.force_login(user)
    return client


def _pages(w):
    a, phase, team, sub = w["a"], w["phase_a"], w["team_a"], w["sub_a"]
    return {
        "challenge changelist": reverse("admin:challenges_challenge_changelist"),
        "challenge change": reverse("admin:challenges_challenge_change", args=[a.pk]),
        "track change": reverse("admin:challenges_track_change", args=[phase.track.pk]),
        "phase change": reverse("admin:challenges_phase_change", args=[phase.pk]),
        "participation change": reverse("admin:participation_participation_change", args=[team.participation.pk]),
        "submission change": reverse("admin:submissions_submission_change", args=[sub.pk]),
        "team change": reverse("admin:teams_team_change", args=[team.pk]),
    }


# Who may open the admin pages of challenge A's objects: 200 = yes; 302 = sent to the admin
# login; 403/404 = refused (Django answers 302 to a non-staff user and hides objects out of
# an organiser's scope, which then redirect to the admin index).
EXPECTED = {
    "anonymous": 302,
    "participant": 302,
    "organiser_b": "refused",
    "organiser_a": 200,
    "superuser": 200,
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_permission_matrix_for_challenge_a_pages(client, world, who):
    client = _client(client, world["users"][who])
    for name, url in _pages(world).items():
        response = client.get(url)
        expected = EXPECTED[who]
        if name == "challenge changelist" and who == "organiser_b":
            # B may open the list, but it holds only B's challenge.
            assert response.status_code == 200
            assert list(response.context["cl"].queryset) == [world["b"]]
            continue
        if expected == "refused":
            assert response.status_code in (302, 403, 404), (name, response.status_code)
            if response.status_code == 302:
                assert response.url == reverse("admin:index"), name
        else:
            assert response.status_code == expected, (name, response.status_code)


def test_organiser_lists_show_only_their_challenges(client, world):
    client.force_login(world["users"]["organiser_b"])
    expected = {  # B's own objects only: one track and phase, no team or submission yet
        "challenges_track": 1, "challenges_phase": 1, "submissions_submission": 0,
        "participation_participation": 0, "teams_team": 0,
    }
    paths = {"challenges_track": "challenge", "challenges_phase": "track.challenge"}
    for model, count in expected.items():
        response = client.get(reverse(f"admin:{model}_changelist"))
        assert response.status_code == 200
        rows = list(response.context["cl"].queryset)
        assert len(rows) == count, model
        for row in rows:
            challenge = row
            for part in paths[model].split("."):
                challenge = getattr(challenge, part)
            assert challenge == world["b"]


def test_organiser_b_cannot_change_challenge_a(client, world):
    client.force_login(world["users"]["organiser_b"])
    a = world["a"]
    url = reverse("admin:challenges_challenge_change", args=[a.pk])
    client.post(url, {"title": "Hijacked", "slug": "a", "starts_at_0": "2026-01-01", "starts_at_1": "00:00",
                      "ends_at_0": "2027-01-01", "ends_at_1": "00:00", "max_team_size": 5})
    assert Challenge.objects.get(pk=a.pk).title == a.title


def test_organiser_can_add_tracks_only_to_their_challenges(client, world):
    client.force_login(world["users"]["organiser_b"])
    response = client.get(reverse("admin:challenges_track_add"))
    assert response.status_code == 200
    choices = [c for c, _ in response.context["adminform"].form.fields["challenge"].choices if c]
    assert [int(str(c)) for c in choices] == [world["b"].pk]


def _track_post(challenge, **overrides):
    data = {
        "challenge": challenge.pk, "title": "New track", "slug": "new-track", "order": 0,
        "summary": "", "description": "", "scorer_key": "mer.discrete",
        "tie_break_metrics": [], "accepts_files": "on", "max_upload_mb": 50, "allow_compressed": "on",
        "max_per_day": 5, "max_total": 100, "max_in_flight": 2,
        "container_wall_seconds": 600, "container_memory_mb": 2048,
        "container_cpus": "1.00", "container_gpus": 0, "container_pids": 256, "max_image_mb": 4096,
        "show_container_logs": "on",
        "assets-TOTAL_FORMS": 0, "assets-INITIAL_FORMS": 0,
        "phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


def test_track_form_validates_options_against_the_scorer(client, world):
    client.force_login(world["users"]["organiser_a"])
    url = reverse("admin:challenges_track_add")
    response = client.post(url, _track_post(world["a"], option_labels="happy, happy"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "option_labels": ["option 'labels' must be a comma-separated list, got ['happy', 'happy']"]}
    response = client.post(url, _track_post(world["a"], tie_break_metrics=["nope"]))
    assert "nope is not one of the available choices" in str(response.context["adminform"].form.errors)
    assert not Track.objects.filter(slug="new-track").exists()
    response = client.post(url, _track_post(world["a"]))
    assert response.status_code == 302
    track = Track.objects.get(slug="new-track")
    assert track.challenge == world["a"]
    assert AuditEntry.objects.filter(action="admin.add.track", target_id=str(track.pk)).exists()


def _action(client, model, action, ids, **extra):
    return client.post(reverse(f"admin:{model}_changelist"),
                       {"action": action, "_selected_action": [str(i) for i in ids], **extra})


def test_approve_and_deny_through_admin_actions(client, world, mailoutbox,
                                                django_capture_on_commit_callbacks):
    participation = world["team_a"].participation
    client.force_login(world["users"]["organiser_a"])
    _action(client, "participation_participation", "deny", [participation.pk], reason="")
    assert Participation.objects.get(pk=participation.pk).status == ParticipationStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        _action(client, "participation_participation", "deny", [participation.pk],
                reason="No EULA signature")
    participation.refresh_from_db()
    assert (participation.status, participation.decision_reason) == (ParticipationStatus.DENIED, "No EULA signature")
    assert len(mailoutbox) == 1
    assert "No EULA signature" in mailoutbox[0].body
    assert mailoutbox[0].to == [world["users"]["participant"].email]
    _action(client, "participation_participation", "approve", [participation.pk])
    participation.refresh_from_db()
    assert participation.status == ParticipationStatus.APPROVED
    assert participation.decided_by == world["users"]["organiser_a"]
    assert list(AuditEntry.objects.filter(target_type="participation.participation")
                .order_by("id").values_list("action", flat=True)) == ["participation.deny", "participation.approve"]


def test_actions_of_another_organiser_change_nothing(client, world):
    participation = world["team_a"].participation
    client.force_login(world["users"]["organiser_b"])
    _action(client, "participation_participation", "approve", [participation.pk])
    _action(client, "challenges_phase", "reveal_results", [world["phase_a"].pk])
    _action(client, "submissions_submission", "cancel", [world["sub_a"].pk])
    assert Participation.objects.get(pk=participation.pk).status == ParticipationStatus.PENDING
    assert Phase.objects.get(pk=world["phase_a"].pk).private_revealed_at is None
    assert Submission.objects.get(pk=world["sub_a"].pk).status == SubmissionStatus.SUBMITTED
    assert not AuditEntry.objects.filter(actor=world["users"]["organiser_b"]).exists()


def test_reveal_cancel_and_rerun_actions(client, world, django_capture_on_commit_callbacks):
    client.force_login(world["users"]["organiser_a"])
    _action(client, "challenges_phase", "reveal_results", [world["phase_a"].pk], post="yes")  # still open
    assert Phase.objects.get(pk=world["phase_a"].pk).private_revealed_at is not None
    _action(client, "submissions_submission", "cancel", [world["sub_a"].pk])
    assert Submission.objects.get(pk=world["sub_a"].pk).status == SubmissionStatus.CANCELLED
    with django_capture_on_commit_callbacks() as callbacks:
        _action(client, "submissions_submission", "rerun", [world["sub_a"].pk])
    assert Submission.objects.get(pk=world["sub_a"].pk).status == SubmissionStatus.QUEUED
    # One scoring task is sent once the transaction commits (besides the board's statistics request: the
    # re-run entry left the board).
    sent = [c.__qualname__.split(".")[0] for c in callbacks]
    assert sent.count("submission_enqueue") == 1 and set(sent) <= {"submission_enqueue", "leaderboard_refresh"}
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "phase.reveal_results", "submission.cancel", "submission.rerun"}


def test_disqualify_needs_a_reason_and_shows_it_to_the_team(client, world):
    from arena.submissions.models import SubmissionStatus as S

    sub = world["sub_a"]
    Submission.objects.filter(pk=sub.pk).update(status=S.SCORED)
    client.force_login(world["users"]["organiser_a"])
    _action(client, "submissions_submission", "disqualify", [sub.pk], reason="")
    assert Submission.objects.get(pk=sub.pk).disqualified_at is None
    _action(client, "submissions_submission", "disqualify", [sub.pk], reason="Trained on test labels")
    sub.refresh_from_db()
    assert sub.disqualified_reason == "Trained on test labels" and sub.disqualified_at is not None
    client.force_login(world["users"]["participant"])
    assert "Trained on test labels" in client.get(f"/submissions/{sub.pk}/").text
