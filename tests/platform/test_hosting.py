"""Hosting rights: people ask on their hosting page, site admins decide, hosts create challenges."""

import pytest
from django.urls import reverse

from arena.accounts.models import HostingRequest, User
from arena.accounts.permissions import can_host_challenges, host_challenges_permission
from arena.accounts.services import hosting_request_grant
from arena.audit.models import AuditEntry
from arena.challenges.models import Challenge
from arena.challenges.services import challenge_create
from arena.core.errors import PermissionDenied
from tests.platform.factories import ChallengeFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTING = "/accounts/hosting/"
ADD = "/admin/challenges/challenge/add/"
REQUESTS = "/admin/accounts/hostingrequest/"


def _host(**kwargs) -> User:
    user = UserFactory(is_staff=True, **kwargs)
    user.user_permissions.add(host_challenges_permission())
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per object


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _challenge_post(client, **overrides) -> dict:
    """The add form's fields, with an empty management form for every inline it shows."""
    page = client.get(ADD)
    data = {
        "title": "MER 2027", "slug": "mer-2027", "summary": "", "overview": "", "rules": "",
        "starts_at_0": "2027-03-01", "starts_at_1": "00:00:00", "ends_at_0": "2027-06-01", "ends_at_1": "00:00:00",
        "entry_deadline_0": "", "entry_deadline_1": "", "max_team_size": 4, "add_organiser": "",
    }
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(overrides)
    return data


@pytest.fixture
def others():
    """Another organiser's challenge, which no host may see."""
    other = UserFactory(username="other-organiser")
    return ChallengeFactory(slug="other", title="Other challenge", organisers=[other])


def test_an_organiser_without_hosting_rights_may_not_open_the_add_page(client, others):
    organiser = User.objects.get(username="other-organiser")
    assert organiser.is_staff and not can_host_challenges(organiser)
    client.force_login(organiser)
    assert client.get(ADD).status_code == 403
    response = client.post(ADD, {"title": "Sneaky", "slug": "sneaky"})
    assert response.status_code == 403
    assert list(Challenge.objects.values_list("slug", flat=True)) == ["other"]
    assert not AuditEntry.objects.exists()


def test_a_participant_is_sent_to_the_admin_login(client):
    client.force_login(UserFactory())
    response = client.get(ADD)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_a_host_creates_a_challenge_organises_it_and_sees_no_other(client, others):
    host = _host(username="new-host")
    co = UserFactory(username="co-host", email="co.host@example.org")
    client.force_login(host)
    assert client.get("/admin/challenges/challenge/").context["cl"].result_count == 0
    page = client.get(ADD)
    assert page.status_code == 200
    # No list of accounts on the page: the creator organises it and co-organisers are named exactly.
    assert "organisers" not in page.context["adminform"].form.fields
    # The licence can be written on the add page already, by a host who organises nothing yet.
    assert [f.opts.model.__name__ for f in page.context["inline_admin_formsets"]][:1] == ["Licence"]
    response = client.post(ADD, _challenge_post(client, add_organiser="CO.HOST@example.org"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    challenge = Challenge.objects.get(slug="mer-2027")
    assert (challenge.title, challenge.is_published, challenge.max_team_size) == ("MER 2027", False, 4)
    assert list(challenge.organisers.order_by("username").values_list("username", flat=True)) == [
        "co-host", "new-host"]
    assert User.objects.get(pk=co.pk).is_staff
    assert list(AuditEntry.objects.filter(challenge=challenge).order_by("id").values_list("action", "actor")) == [
        ("challenge.create", host.pk), ("challenge.add_organiser", host.pk)]
    # Hosting rights give no sight of other challenges.
    listed = client.get("/admin/challenges/challenge/").context["cl"].queryset
    assert list(listed) == [challenge]
    refused = client.get(reverse("admin:challenges_challenge_change", args=[others.pk]))
    assert (refused.status_code, refused.url) == (302, reverse("admin:index"))
    track_choices = client.get(reverse("admin:challenges_track_add")).context["adminform"].form.fields["challenge"]
    assert [int(str(c)) for c, _ in track_choices.choices if c] == [challenge.pk]
    change = client.get(reverse("admin:challenges_challenge_change", args=[challenge.pk]))
    assert "organisers" not in change.context["adminform"].form.fields


def test_a_taken_slug_is_refused_on_the_add_page(client, others):
    client.force_login(_host())
    response = client.post(ADD, _challenge_post(client, slug="other"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == ["Challenge with this Slug already exists."]
    assert Challenge.objects.count() == 1


def test_challenge_create_refuses_people_who_may_not_host(others):
    organiser = User.objects.get(username="other-organiser")
    challenge = Challenge(slug="x", title="X", starts_at=others.starts_at, ends_at=others.ends_at)
    with pytest.raises(PermissionDenied) as refused:
        challenge_create(actor=organiser, challenge=challenge)
    assert refused.value.code == "not_host"
    assert not Challenge.objects.filter(slug="x").exists()


def test_request_grant_and_permission(client, mailoutbox, django_capture_on_commit_callbacks):
    person = UserFactory(username="lecturer", affiliation="Uni A")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(person)
    page = client.get(HOSTING)
    assert page.status_code == 200
    assert page.context["form"].initial["affiliation"] == "Uni A"
    assert client.get(ADD).status_code == 302  # not staff: sent to the admin login
    form = {"affiliation": " Uni A ", "challenge_name": "MER 2027", "reason": "I run the MER workshop."}
    response = client.post(HOSTING, form, follow=True)
    assert _messages(response) == [
        "Your request to host challenges was sent. A site admin will decide it; you will get an e-mail."]
    assert "is waiting for a site admin's decision" in response.text
    hosting = HostingRequest.objects.get()
    assert (hosting.user, hosting.affiliation, hosting.challenge_name, hosting.reason, hosting.granted,
            hosting.decided_at) == (person, "Uni A", "MER 2027", "I run the MER workshop.", None, None)
    again = client.post(HOSTING, form)
    assert again.status_code == 409
    assert again.context["form"].non_field_errors() == [
        "You already have a request waiting for a site admin's decision; you will get an e-mail when it is decided."]
    assert HostingRequest.objects.count() == 1

    client.force_login(admin)
    assert client.get(REQUESTS).context["cl"].result_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUESTS, {"action": "grant", "_selected_action": [hosting.pk]}, follow=True)
    assert _messages(response) == ["Granted 1 request(s)."]
    hosting.refresh_from_db()
    assert (hosting.granted, hosting.decided_by) == (True, admin)
    assert hosting.decided_at is not None
    person = User.objects.get(pk=person.pk)
    assert person.is_staff and can_host_challenges(person)
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("You may now host challenges on AffectArena", ["lecturer@example.org"])]
    assert "(MER 2027) was granted" in mailoutbox[0].body
    assert "/admin/challenges/challenge/add/" in mailoutbox[0].body
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor", "target_id")) == [
        ("hosting.request", person.pk, str(hosting.pk)), ("hosting.grant", admin.pk, str(hosting.pk))]
    # Granting twice changes nothing.
    response = client.post(REQUESTS, {"action": "grant", "_selected_action": [hosting.pk]}, follow=True)
    assert _messages(response) == ["Granted 0 request(s). 1 already decided, left as they were."]
    assert AuditEntry.objects.count() == 2 and len(mailoutbox) == 1

    client.force_login(person)
    assert client.get(ADD).status_code == 200
    page = client.get(HOSTING)
    assert "You may host challenges." in page.text
    refused = client.post(HOSTING, form)
    assert refused.status_code == 409
    assert refused.context["form"].non_field_errors() == [
        "You may already host challenges: create one in the organiser admin."]


def test_a_denied_request_is_mailed_with_the_reason_and_may_be_sent_again(
        client, mailoutbox, django_capture_on_commit_callbacks):
    person = UserFactory(username="student")
    hosting = HostingRequest.objects.create(user=person, affiliation="Uni B", challenge_name="Mine",
                                            reason="Please")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUESTS, {"action": "deny", "_selected_action": [hosting.pk],
                                          "reason": "Ask your supervisor to request it."}, follow=True)
    assert _messages(response) == ["Denied 1 request(s)."]
    hosting.refresh_from_db()
    assert hosting.granted is False
    person = User.objects.get(pk=person.pk)
    assert not person.is_staff and not can_host_challenges(person)
    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("Your request to host challenges on AffectArena", ["student@example.org"])]
    assert "(Mine) was not granted. The site admins wrote: Ask your supervisor to request it." in mailoutbox[0].body
    assert AuditEntry.objects.get(action="hosting.deny").details == {
        "user": "student", "reason": "Ask your supervisor to request it."}
    client.force_login(person)
    response = client.post(HOSTING, {"affiliation": "Uni B", "challenge_name": "Mine", "reason": "Supervisor: Dr X"})
    assert response.status_code == 302
    assert HostingRequest.objects.filter(user=person, decided_at__isnull=True).count() == 1


def test_only_site_admins_decide_requests(client, others):
    person = UserFactory(username="hopeful")
    hosting = HostingRequest.objects.create(user=person, affiliation="Uni", challenge_name="C", reason="R")
    host_organiser = _host(username="host-organiser")
    others.organisers.add(host_organiser)
    for who in (host_organiser, User.objects.get(username="other-organiser")):
        client.force_login(who)
        assert client.get(REQUESTS).status_code == 403
        assert client.post(REQUESTS, {"action": "grant", "_selected_action": [hosting.pk]}).status_code == 403
        assert client.get(f"{REQUESTS}{hosting.pk}/change/").status_code == 403
    with pytest.raises(PermissionDenied) as refused:
        hosting_request_grant(actor=host_organiser, hosting=hosting)
    assert refused.value.message == "Only site admins decide requests to host challenges."
    hosting.refresh_from_db()
    assert (hosting.granted, hosting.decided_at) == (None, None)
    assert not can_host_challenges(User.objects.get(pk=person.pk))
    assert not AuditEntry.objects.exists()


def test_the_hosting_page_needs_a_sign_in(client):
    response = client.get(HOSTING)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={HOSTING}"
    assert client.post(HOSTING, {"affiliation": "A", "challenge_name": "B", "reason": "C"}).status_code == 302
    assert not HostingRequest.objects.exists()


def test_the_demo_grants_hosting_rights_to_mer_organiser_only():
    from arena.demo.services import demo_load

    demo_load(with_submissions=False)
    demo_load(with_submissions=False)
    hosts = [u.username for u in User.objects.order_by("username") if can_host_challenges(u)]
    assert hosts == ["admin", "mer-organiser"]
