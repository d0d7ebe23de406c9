"""The participant's dashboard (``/me/``, ``GET /api/v1/me``): each team's next step, its limits in the
open phases, the newest submissions; and the phase page's form, shown only to a team that can submit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arena.datasets.models import Dataset, DatasetFile
from arena.participation.models import ChallengeBar, LicenceAcceptance, ParticipationStatus
from arena.participation.standing import participant_dashboard, phase_standing
from arena.submissions.models import Submission, SubmissionStatus
from arena.tokens.services import api_token_create
from tests.platform.factories import (
    ChallengeFactory,
    LicenceFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    UserFactory,
    ready_team,
)

pytestmark = pytest.mark.django_db

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"
FUTURE_OPEN = datetime(2099, 1, 2, 3, 4, tzinfo=UTC)
PAST_CLOSE = datetime(2020, 2, 1, 10, 0, tzinfo=UTC)


def accept(team, licence, user) -> LicenceAcceptance:
    return LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=user, full_name="A Person",
                                            affiliation="Lab", accepted_on=timezone.now().date())


def phase_url(phase) -> str:
    return f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"


def only_team(user):
    (team,) = participant_dashboard(user=user).teams
    return team


@pytest.fixture
def ada():
    return UserFactory(username="ada")


@pytest.fixture
def phase():
    return PhaseFactory(track__challenge__slug="mer", track__challenge__title="MER", track__slug="semi",
                        track__title="MER-SEMI", slug="val", title="Validation")


# Each state, with its exact words and the page where to act.

def test_a_team_that_has_not_accepted_the_licence_is_asked_to(ada, phase):
    challenge = phase.track.challenge
    LicenceFactory(challenge=challenge, version=1)
    TeamFactory(challenge=challenge, name="Owls", members=[ada])
    step = only_team(ada).next_step
    assert (step.state, step.text, step.url) == ("accept_licence", "Accept the licence (version 1).",
                                                 "/c/mer/licence/")
    assert step.detail == "Accept the licence for your team before submitting."
    assert not step.can_submit


def test_a_new_licence_version_names_both_versions(ada, phase):
    challenge = phase.track.challenge
    team = ready_team(challenge=challenge, members=[ada], name="Owls")
    LicenceFactory(challenge=challenge, version=2, text="New terms.")
    step = only_team(ada).next_step
    assert (step.state, step.text) == ("accept_licence", "Accept the licence (version 2).")
    assert step.detail == ("The licence changed (now version 2; your team accepted version 1): accept the new "
                           "version before submitting.")
    assert team.pk == only_team(ada).team.pk


def test_a_team_without_the_signed_agreement_is_asked_for_it(ada, phase):
    challenge = phase.track.challenge
    challenge.requires_signed_agreement = True
    challenge.save()
    licence = LicenceFactory(challenge=challenge)
    accept(TeamFactory(challenge=challenge, members=[ada]), licence, ada)
    step = only_team(ada).next_step
    assert (step.state, step.text, step.url) == ("upload_agreement", "Upload the signed agreement.",
                                                 "/c/mer/licence/")
    assert step.detail == "Upload the licence agreement signed by a lab head or faculty member (PDF)."


def test_a_pending_team_awaits_approval(ada, phase):
    challenge = phase.track.challenge
    licence = LicenceFactory(challenge=challenge)
    accept(TeamFactory(challenge=challenge, members=[ada], participation=ParticipationStatus.PENDING), licence, ada)
    step = only_team(ada).next_step
    assert (step.state, step.text, step.url) == ("awaiting_approval", "Awaiting the organisers' approval.", "")
    assert step.detail == "Your team is waiting for the organisers' approval; you will get an e-mail."


@pytest.mark.parametrize("status,state,text", [
    (ParticipationStatus.DENIED, "denied", "Not approved by the organisers."),
    (ParticipationStatus.REVOKED, "revoked", "Access revoked by the organisers."),
])
def test_a_denied_or_revoked_team_is_told_so(ada, phase, status, state, text):
    challenge = phase.track.challenge
    team = TeamFactory(challenge=challenge, members=[ada], participation=status)
    team.participation.decision_reason = "No affiliation given"
    team.participation.save()
    step = only_team(ada).next_step
    assert (step.state, step.text) == (state, text)
    assert step.detail.endswith(": No affiliation given")


def test_a_barred_member_is_told_their_access_was_revoked(ada, phase):
    challenge = phase.track.challenge
    ready_team(challenge=challenge, members=[ada])
    ChallengeBar.objects.create(challenge=challenge, user=ada, reason="Shared the data")
    step = only_team(ada).next_step
    assert (step.state, step.text) == ("revoked", "Access revoked by the organisers.")
    assert step.detail == ("The organisers of 'MER' revoked your access: Shared the data; contact them to have "
                           "it restored.")


def test_without_a_published_licence_the_team_waits_for_it(ada, phase):
    TeamFactory(challenge=phase.track.challenge, members=[ada])
    step = only_team(ada).next_step
    assert (step.state, step.text) == ("no_licence", "Wait for the organisers to publish the licence.")


def test_a_ready_team_is_sent_to_the_open_phase(ada, phase):
    ready_team(challenge=phase.track.challenge, members=[ada], name="Owls")
    standing = only_team(ada)
    assert (standing.next_step.state, standing.next_step.text, standing.next_step.url) == (
        "ready", "Ready to submit.", "/c/mer/t/semi/p/val/")
    assert [p.phase.pk for p in standing.open_phases] == [phase.pk]


def test_a_ready_team_waits_for_the_next_phase_or_is_told_all_closed(ada):
    future = PhaseFactory(title="Test", opens_at=FUTURE_OPEN, closes_at=FUTURE_OPEN + timedelta(days=9))
    challenge = future.track.challenge
    ready_team(challenge=challenge, members=[ada])
    step = only_team(ada).next_step
    assert (step.state, step.text, step.url) == ("phase_not_open", "Phase 'Test' opens on 2099-01-02 03:04 UTC.",
                                                 phase_url(future))
    future.opens_at, future.closes_at = PAST_CLOSE - timedelta(days=9), PAST_CLOSE
    future.save()
    step = only_team(ada).next_step
    assert (step.state, step.text) == ("phase_closed", "Phase 'Test' closed on 2020-02-01 10:00 UTC.")
    future.delete()
    step = only_team(ada).next_step
    assert (step.state, step.text) == ("no_phase", "Wait for the organisers to open a phase.")


def test_a_dataset_licence_still_to_accept_is_listed_for_downloads(ada, phase):
    challenge = phase.track.challenge
    ready_team(challenge=challenge, members=[ada])
    dataset = Dataset.objects.create(challenge=challenge, slug="affwild", title="Aff-Wild2")
    DatasetFile.objects.create(dataset=dataset, name="a.csv", kind="train", size=3, sha256="0" * 64,
                               file=ContentFile(b"abc", name="a.csv"))
    LicenceFactory(challenge=challenge, dataset=dataset, version=1, title="Aff-Wild2 EULA")
    standing = only_team(ada)
    assert standing.next_step.state == "ready"  # submitting does not wait for a dataset's own licence
    assert [(s.state, s.text, s.url) for s in standing.dataset_steps] == [(
        "dataset_licence", "'Aff-Wild2' has its own licence: accept it for your team on its licence page before "
        "downloading its files.", "/c/mer/data/affwild/licence/")]


# Limits: what is left after N submissions.

@pytest.fixture
def limited(ada):
    phase = PhaseFactory(track__challenge__slug="mer", track__slug="semi", slug="val", title="Validation",
                         max_per_day=3, max_total=5, max_in_flight=2)
    team = ready_team(challenge=phase.track.challenge, members=[ada], name="Owls")
    return phase, team


def limits_of(standing) -> dict:
    (open_phase,) = standing.open_phases
    return {use.limit: (use.used, use.left) for use in open_phase.limits}


def test_limits_left_count_today_total_and_in_flight(ada, limited):
    phase, team = limited
    yesterday = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    Submission.objects.filter(pk=yesterday.pk).update(created_at=timezone.now() - timedelta(days=1))
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.QUEUED)
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.FAILED)  # counts for nothing
    standing = only_team(ada)
    assert limits_of(standing) == {"total": (3, 2), "per_day": (2, 1), "in_flight": (1, 1)}
    assert standing.next_step.state == "ready"
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.QUEUED)
    standing = only_team(ada)
    assert limits_of(standing) == {"total": (4, 1), "per_day": (3, 0), "in_flight": (2, 0)}
    tomorrow = timezone.now().date() + timedelta(days=1)
    assert (standing.next_step.state, standing.next_step.text) == (
        "limit_reached", f"Your team has made 3 of its 3 submissions today; the count resets at "
                         f"{tomorrow:%Y-%m-%d} 00:00 UTC.")


def test_the_page_shows_the_limits_left_after_two_uploads(client, ada, limited):
    phase, _ = limited
    client.force_login(ada)
    for name in ("first", "second"):
        response = client.post(phase_url(phase), {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": name})
        assert response.status_code == 302
    page = client.get("/me/").text
    assert '<td class="limit-per_day">1 of 3 left today (resets 00:00 UTC)</td>' in page
    assert '<td class="limit-total">3 of 5 left in total</td>' in page
    assert '<td class="limit-in_flight">2 of at most 2 being scored</td>' in page
    assert ("Your team already has 2 submission(s) being scored (at most 2); wait until one finishes."
            in page)
    # Both entries are listed with their live status and the polling script.
    for sub in Submission.objects.all():
        assert f'<tr data-submission="{sub.pk}">' in page
    assert page.count('data-status="queued"') == 2 and "arena/submissions.js" in page


# Who sees what.

def test_another_users_teams_and_submissions_are_never_shown(client, ada, phase):
    rival = UserFactory(username="rival")
    rivals = ready_team(challenge=phase.track.challenge, members=[rival], name="Rivals")
    SubmissionFactory(phase=phase, team=rivals, method_name="Rival secret method")
    other = PhaseFactory(track__challenge__title="Elsewhere challenge")
    ready_team(challenge=other.track.challenge, members=[rival], name="Rivals abroad")
    ready_team(challenge=phase.track.challenge, members=[ada], name="Owls")
    client.force_login(ada)
    page = client.get("/me/").text
    assert "Owls" in page
    for text in ("Rivals", "Rival secret method", "Elsewhere challenge"):
        assert text not in page
    body = client.get("/api/v1/me").json()
    assert [t["team"] for t in body["teams"]] == ["Owls"] and body["submissions"] == []
    assert participant_dashboard(user=UserFactory()).teams == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/me/")
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/me/"
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and api.json()["code"] == "not_authenticated"


def test_the_header_links_the_dashboard_for_signed_in_people(client, ada):
    assert 'href="/me/"' not in client.get("/").text
    client.force_login(ada)
    assert '<a href="/me/">My dashboard</a>' in client.get("/").text


def test_someone_without_a_team_is_pointed_to_the_challenges(client, ada):
    client.force_login(ada)
    assert "You are in no team yet." in client.get("/me/").text


# The JSON endpoint says the same as the page.

def test_the_api_gives_the_same_data_with_a_token_or_a_session(client, ada, limited):
    phase, team = limited
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.QUEUED, method_name="wav2vec")
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name="MLP")
    token = api_token_create(user=ada, name="laptop").raw
    body = client.get("/api/v1/me", headers={"Authorization": f"Token {token}"}).json()
    tomorrow = (timezone.now().date() + timedelta(days=1)).isoformat()
    (owls,) = body["teams"]
    assert owls == {
        "challenge": "mer", "team_id": team.pk, "team": "Owls", "role": "owner", "participation_status": "approved",
        "next_step": {"state": "ready", "text": "Ready to submit.", "url": "/c/mer/t/semi/p/val/", "detail": "",
                      "can_submit": True},
        "open_phases": [{
            "id": phase.pk, "title": "Validation", "track": "semi", "closes_at": owls["open_phases"][0]["closes_at"],
            "url": "/c/mer/t/semi/p/val/",
            "next_step": {"state": "ready", "text": "Ready to submit.", "url": "/c/mer/t/semi/p/val/", "detail": "",
                          "can_submit": True},
            "limits": [
                {"limit": "total", "allowed": 5, "used": 2, "left": 3, "resets_at": None},
                {"limit": "per_day", "allowed": 3, "used": 2, "left": 1, "resets_at": f"{tomorrow}T00:00:00Z"},
                {"limit": "in_flight", "allowed": 2, "used": 1, "left": 1, "resets_at": None},
            ],
        }],
        "dataset_steps": [],
    }
    assert [s["id"] for s in body["submissions"]] == [sub.pk, sub.pk - 1]
    assert body["submissions"][0] == {
        "id": sub.pk, "challenge": "mer", "track": "semi", "phase": phase.pk, "phase_title": "Validation",
        "team": "Owls", "method_name": "MLP", "status": "scored",
        "created_at": body["submissions"][0]["created_at"]}
    client.force_login(ada)
    session = client.get("/api/v1/me").json()
    assert session["teams"] == body["teams"] and session["submissions"] == body["submissions"]
    page = client.get("/me/").text
    assert '<td class="limit-per_day">1 of 3 left today (resets 00:00 UTC)</td>' in page
    assert '<td class="limit-total">3 of 5 left in total</td>' in page


def test_the_recent_list_holds_the_newest_twenty(ada, phase):
    team = ready_team(challenge=phase.track.challenge, members=[ada])
    subs = [SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.FAILED) for _ in range(23)]
    assert [s.pk for s in participant_dashboard(user=ada).submissions] == [s.pk for s in reversed(subs)][:20]


# The phase page shows the form only to a team that can submit, and otherwise says what to do.

def test_phase_page_without_a_team_says_how_to_get_one(client, ada, phase):
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page
    assert ('<div id="submit-step"><p class="next-step" data-state="no_team"><strong><a href="/c/mer/team/">'
            'Create or join a team.</a></strong>') in page


def test_phase_page_before_the_licence_links_the_licence_page(client, ada, phase):
    LicenceFactory(challenge=phase.track.challenge)
    TeamFactory(challenge=phase.track.challenge, members=[ada])
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page and 'id="model-form"' not in page
    assert '<a href="/c/mer/licence/">Accept the licence (version 1).</a>' in page
    assert "Accept the licence for your team before submitting." in page
    assert 'id="my-limits"' not in page


def test_phase_page_awaiting_approval_hides_the_form(client, ada, phase):
    licence = LicenceFactory(challenge=phase.track.challenge)
    team = TeamFactory(challenge=phase.track.challenge, members=[ada], participation=ParticipationStatus.PENDING)
    accept(team, licence, ada)
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page
    assert "<strong>Awaiting the organisers&#x27; approval.</strong>" in page


def test_phase_page_of_a_phase_not_open_says_when_it_opens(client, ada):
    phase = PhaseFactory(title="Test", opens_at=FUTURE_OPEN, closes_at=FUTURE_OPEN + timedelta(days=9))
    ready_team(challenge=phase.track.challenge, members=[ada])
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page
    assert "<strong>Phase &#x27;Test&#x27; opens on 2099-01-02 03:04 UTC.</strong>" in page


def test_phase_page_at_the_limit_says_when_it_resets_and_shows_the_limits(client, ada, limited):
    phase, team = limited
    for _ in range(3):
        SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page
    tomorrow = timezone.now().date() + timedelta(days=1)
    assert (f"Your team has made 3 of its 3 submissions today; the count resets at {tomorrow:%Y-%m-%d} 00:00 UTC."
            in page)
    assert ('<p id="my-limits">Your team: 2 of 5 left in total; 0 of 3 left today (resets 00:00 UTC); '
            '0 of at most 2 being scored.</p>') in page
    # The rule the page shows is the rule an upload meets: refused, nothing stored.
    refused = client.post(phase_url(phase), {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": "x"},
                          HTTP_ACCEPT="application/json")
    assert refused.status_code == 429 and Submission.objects.count() == 3


def test_phase_page_of_a_ready_team_shows_the_form(client, ada, phase):
    ready_team(challenge=phase.track.challenge, members=[ada])
    client.force_login(ada)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' in page and 'id="submit-step"' not in page
    assert phase_standing(user=ada, phase=phase).step.can_submit


def test_phase_page_for_organisers_and_visitors(client, phase):
    organiser = UserFactory()
    phase.track.challenge.organisers.add(organiser)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page and "to submit." in page
    client.force_login(organiser)
    page = client.get(phase_url(phase)).text
    assert 'id="submit-form"' not in page and "Create or join a team." in page


# The data page gives each file's id and the command that fetches it.

def test_the_data_page_shows_file_ids_and_the_download_command(client, ada):
    challenge = ChallengeFactory(slug="abaw")
    ready_team(challenge=challenge, members=[ada])
    dataset = Dataset.objects.create(challenge=challenge, slug="train", title="Train")
    data_file = DatasetFile.objects.create(dataset=dataset, name="train.csv", kind="train", size=3,
                                           sha256="a" * 64, file=ContentFile(b"abc", name="train.csv"))
    client.force_login(ada)
    page = client.get("/c/abaw/data/").text
    assert f'<span class="meta file-id">file {data_file.pk}</span>' in page
    assert f'<code class="download-command">arena download {data_file.pk}</code>' in page
    assert "<code>arena datasets abaw</code>" in page


def test_the_page_takes_as_many_queries_for_1_and_20_submissions(client, ada, phase):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team = ready_team(challenge=phase.track.challenge, members=[ada])
    client.force_login(ada)
    counts = []
    for n in (1, 19):
        for _ in range(n):
            SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.FAILED)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/me/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
