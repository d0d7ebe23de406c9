"""Organisers' announcements: the challenge page, the e-mails to the teams' members (who may opt out),
the audit log, and who may publish one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Announcement
from arena.challenges.services import announcement_publish
from arena.core.errors import DomainError, PermissionDenied
from arena.teams.models import TeamMembership
from tests.platform.factories import ChallengeFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organiser, other_organiser = UserFactory(username="orga"), UserFactory(username="orgb")
    alice, bob, carol, dave = (UserFactory(username=name) for name in ("alice", "bob", "carol", "dave"))
    challenge = ChallengeFactory(slug="mer", title="MER", organisers=[organiser])
    other = ChallengeFactory(slug="abaw", title="ABAW", organisers=[other_organiser])
    TeamFactory(challenge=challenge, name="Minds", members=[alice, bob])
    TeamFactory(challenge=challenge, name="Vanguard", members=[carol])
    TeamFactory(challenge=other, name="Elsewhere", members=[dave])
    TeamMembership.objects.filter(user=bob).update(announcement_emails=False)
    return {"organiser": organiser, "other_organiser": other_organiser, "alice": alice, "bob": bob,
            "carol": carol, "challenge": challenge, "other": other}


def test_publishing_emails_each_team_that_takes_them_and_is_audited(world, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announcement = announcement_publish(actor=world["organiser"], challenge=world["challenge"],
                                            title="  Test  phase opens ", body="The **test** phase opens today.")
    assert (announcement.title, announcement.created_by) == ("Test phase opens", world["organiser"])
    # One message per team, so that teams do not see each other's addresses; bob opted out, dave is elsewhere.
    assert [m.to for m in mailoutbox] == [["alice@example.org"], ["carol@example.org"]]
    assert {m.subject for m in mailoutbox} == {"[MER] Test phase opens"}
    assert mailoutbox[0].body.startswith("The **test** phase opens today.\n\n-- \n")
    assert "member of team Minds" in mailoutbox[0].body and "/c/mer/team/" in mailoutbox[0].body
    entry = AuditEntry.objects.get(action="announcement.publish")
    assert (entry.actor, entry.challenge, entry.target_id) == (world["organiser"], world["challenge"],
                                                               str(announcement.pk))
    assert entry.details == {"title": "Test phase opens", "recipients": 2}


def test_no_email_leaves_before_the_commit(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announcement_publish(actor=world["organiser"], challenge=world["challenge"], title="T", body="B")
    assert mailoutbox == [] and len(callbacks) == 2


@pytest.mark.parametrize("who", ["alice", "other_organiser"])
def test_participants_and_other_organisers_cannot_publish(world, mailoutbox, who):
    with pytest.raises(PermissionDenied):
        announcement_publish(actor=world[who], challenge=world["challenge"], title="T", body="B")
    assert not Announcement.objects.exists() and mailoutbox == []
    assert not AuditEntry.objects.filter(action="announcement.publish").exists()


def test_an_empty_announcement_is_refused(world):
    with pytest.raises(DomainError) as error:
        announcement_publish(actor=world["organiser"], challenge=world["challenge"], title="T", body="  \n")
    assert error.value.details == {"field": "body"}
    assert not Announcement.objects.exists()


def test_challenge_page_shows_announcements_newest_first(client, world):
    challenge = world["challenge"]
    for days, title in ((3, "Oldest"), (1, "Newest"), (2, "Middle")):
        announcement = announcement_publish(actor=world["organiser"], challenge=challenge, title=title,
                                            body=f"Body of *{title}*")
        Announcement.objects.filter(pk=announcement.pk).update(published_at=timezone.now() - timedelta(days=days))
    Announcement.objects.create(challenge=challenge, title="Scheduled", body="later",
                                published_at=timezone.now() + timedelta(days=1))
    announcement_publish(actor=world["other_organiser"], challenge=world["other"], title="Other news", body="x")
    page = client.get(reverse("challenge-detail", args=["mer"])).text
    positions = [page.index(f"<h3 id=\"announcement-{a.pk}-h\">{a.title}</h3>")
                 for a in Announcement.objects.filter(title__in=["Newest", "Middle", "Oldest"])
                 .order_by("-published_at")]
    assert positions == sorted(positions)
    assert [t for t in ("Newest", "Middle", "Oldest") if f">{t}</h3>" in page] == ["Newest", "Middle", "Oldest"]
    assert "Body of <em>Newest</em>" in page
    assert "Scheduled" not in page and "Other news" not in page


def _add(client, challenge, title="Data released"):
    return client.post(reverse("admin:challenges_announcement_add"),
                       {"challenge": challenge.pk, "title": title, "body": "The *training* data is out."})


def test_organiser_publishes_from_the_admin(client, world, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(world["organiser"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _add(client, world["challenge"])
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert (announcement.challenge, announcement.created_by) == (world["challenge"], world["organiser"])
    assert response.url == reverse("admin:challenges_announcement_changelist")
    assert [m.to for m in mailoutbox] == [["alice@example.org"], ["carol@example.org"]]
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["announcement.publish"]
    # A correction later changes the page and sends nothing.
    change = reverse("admin:challenges_announcement_change", args=[announcement.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(change, {"title": "Data released (corrected)", "body": "x"}).status_code == 302
    assert Announcement.objects.get().title == "Data released (corrected)"
    assert len(mailoutbox) == 2
    assert AuditEntry.objects.filter(action="admin.change.announcement").exists()


def test_participants_cannot_use_the_announcement_admin(client, world, mailoutbox):
    client.force_login(world["alice"])
    for response in (client.get(reverse("admin:challenges_announcement_add")), _add(client, world["challenge"])):
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    # Staff without a challenge of their own (no organiser) are refused too.
    world["alice"].is_staff = True
    world["alice"].save(update_fields=["is_staff"])
    assert _add(client, world["challenge"]).status_code == 403
    assert not Announcement.objects.exists() and mailoutbox == []


def test_an_organiser_of_another_challenge_cannot_publish_or_edit(client, world, mailoutbox):
    announcement = announcement_publish(actor=world["organiser"], challenge=world["challenge"], title="Mine",
                                        body="x")
    client.force_login(world["other_organiser"])
    response = _add(client, world["challenge"], title="Intruder")
    assert response.status_code == 200  # the form refuses a challenge outside the organiser's own
    assert "challenge" in response.context["adminform"].form.errors
    change = reverse("admin:challenges_announcement_change", args=[announcement.pk])
    assert client.post(change, {"title": "Hacked", "body": "x"}).status_code == 302  # to the admin index
    changelist = client.get(reverse("admin:challenges_announcement_changelist"))
    assert list(changelist.context["cl"].queryset) == []
    assert list(Announcement.objects.values_list("title", flat=True)) == ["Mine"]
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(actor=world["other_organiser"]).exists()


def test_members_turn_announcement_emails_off_and_on_from_the_team_page(client, world):
    client.force_login(world["alice"])
    url = reverse("team-announcement-emails", args=["mer"])
    page = client.get(reverse("team-page", args=["mer"])).text
    assert "Stop announcement e-mails" in page
    assert client.post(url, {"announcement_emails": "off"}).status_code == 302
    assert TeamMembership.objects.get(user=world["alice"]).announcement_emails is False
    assert "E-mail me the announcements" in client.get(reverse("team-page", args=["mer"])).text
    assert client.post(url, {"announcement_emails": "on"}).status_code == 302
    assert TeamMembership.objects.get(user=world["alice"]).announcement_emails is True
    assert list(AuditEntry.objects.filter(action="team.announcement_emails").order_by("id")
                .values_list("details", flat=True)) == [{"enabled": False}, {"enabled": True}]
    # Another member's setting is untouched.
    assert TeamMembership.objects.get(user=world["bob"]).announcement_emails is False


def test_the_toggle_needs_a_team(client, world):
    outsider = UserFactory()
    client.force_login(outsider)
    response = client.post(reverse("team-announcement-emails", args=["mer"]), {"announcement_emails": "off"})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="team.announcement_emails").exists()


def test_the_demo_has_one_announcement_on_mer_style_even_when_loaded_twice(client):
    from arena.demo.services import demo_load

    demo_load(with_submissions=False)
    demo_load(with_submissions=False)
    announcement = Announcement.objects.get()
    assert (announcement.challenge.slug, announcement.created_by.username) == ("mer-style", "mer-organiser")
    assert announcement.title in client.get(reverse("challenge-detail", args=["mer-style"])).text
