"""Participant pages render for anonymous visitors, participants and organisers."""

import re

import pytest
from django.urls import reverse

from arena.accounts.models import User
from arena.teams.models import TeamMembership
from tests.platform.factories import ChallengeFactory, LicenceFactory, PhaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    organiser, participant = UserFactory(username="orga"), UserFactory(username="parti")
    challenge = ChallengeFactory(slug="mer-x", title="MER X", organisers=[organiser])
    LicenceFactory(challenge=challenge, title="MER X EULA", text="Research use only, no redistribution.")
    phase = PhaseFactory(track__challenge=challenge, track__slug="semi", track__title="Semi-supervised",
                         title="Validation phase")
    hidden = ChallengeFactory(slug="draft", title="Draft challenge", is_published=False, organisers=[organiser])
    return {"organiser": organiser, "participant": participant, "challenge": challenge, "phase": phase,
            "hidden": hidden}


@pytest.mark.parametrize("who", ["anonymous", "participant", "organiser"])
def test_pages_render_for_everyone(client, site, who):
    if who != "anonymous":
        client.force_login(site[who])
    home = client.get(reverse("challenge-list"))
    assert home.status_code == 200
    assert "MER X" in home.text
    assert ("Draft challenge" in home.text) is (who == "organiser")
    detail = client.get(reverse("challenge-detail", args=["mer-x"]))
    assert detail.status_code == 200
    for text in ("Overview text", "Rules text", "MER X EULA", "Research use only", "Semi-supervised"):
        assert text in detail.text
    assert ("Edit in the organiser admin" in detail.text) is (who == "organiser")
    track = client.get(reverse("track-detail", args=["mer-x", "semi"]))
    assert track.status_code == 200
    assert "Validation phase" in track.text
    assert "5 per day, 100 in total, 2 being scored at once" in track.text
    assert "higher is better" in track.text


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("participant", 404), ("organiser", 200)])
def test_unpublished_challenge_is_seen_by_its_organisers_only(client, site, who, status):
    if who != "anonymous":
        client.force_login(site[who])
    assert client.get(reverse("challenge-detail", args=["draft"])).status_code == status


def test_pages_are_accessible_and_responsive(client, site):
    html = client.get(reverse("challenge-detail", args=["mer-x"])).text
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert re.search(r'<nav[^>]+aria-label="Main"', html)


def test_team_page_requires_sign_in(client, site):
    url = reverse("team-page", args=["mer-x"])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_sign_up_then_create_and_join_team(client, site):
    response = client.post(reverse("sign-up"), {
        "username": "newbie", "email": "newbie@example.org", "affiliation": "Lab",
        "password1": "a-long-password-42", "password2": "a-long-password-42",
    })
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    url = reverse("team-page", args=["mer-x"])
    response = client.post(url, {"action": "create", "name": "Newbies"})
    assert response.status_code == 302
    page = client.get(url)
    assert "Team Newbies" in page.text
    code = TeamMembership.objects.get(user=user).team.invite_code
    assert code in page.text

    client.force_login(site["participant"])
    response = client.post(url, {"action": "join", "invite_code": "wrong"})
    assert response.status_code == 400
    assert "No team has that invite code" in response.text
    assert client.post(url, {"action": "join", "invite_code": code}).status_code == 302
    assert TeamMembership.objects.get(user=site["participant"]).team.name == "Newbies"


def test_sign_up_refuses_duplicate_email_with_a_clear_message(client, site):
    response = client.post(reverse("sign-up"), {
        "username": "dup", "email": site["participant"].email.upper(),
        "password1": "a-long-password-42", "password2": "a-long-password-42",
    })
    assert response.status_code == 400
    assert "An account with this e-mail already exists" in response.text
    assert not User.objects.filter(username="dup").exists()


def test_login_logout_and_password_reset(client, site, mailoutbox):
    response = client.post(reverse("login"), {"username": "parti", "password": "pw-for-tests-123"})
    assert response.status_code == 302
    assert client.get(reverse("challenge-list")).context["user"].username == "parti"
    client.post(reverse("logout"))
    assert not client.get(reverse("challenge-list")).context["user"].is_authenticated
    client.post(reverse("password_reset"), {"email": site["participant"].email})
    assert len(mailoutbox) == 1
    link = re.search(r"http://\S+/accounts/reset/\S+/", mailoutbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(response.redirect_chain[-1][0], {
        "new_password1": "another-long-pass-7", "new_password2": "another-long-pass-7"})
    assert response.status_code == 302
    assert client.login(username="parti", password="another-long-pass-7")


def test_team_page_shows_members_and_participation(client, site):
    other = UserFactory(username="mate")
    TeamFactory(challenge=site["challenge"], name="Duo", members=[site["participant"], other])
    client.force_login(other)
    page = client.get(reverse("team-page", args=["mer-x"]))
    assert "Team Duo" in page.text and "parti" in page.text and "Approved" in page.text
    assert "Make a new code" not in page.text  # only the owner may rotate the code


def test_static_files_are_served(client):
    from django.contrib.staticfiles import finders

    for path in ("arena/site.css", "arena/submissions.js"):
        assert finders.find(path), path
