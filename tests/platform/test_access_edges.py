"""Access edges: invite codes stay in their challenge, revocation bars people, the admin shows
each organiser only their own challenges and no list of accounts, and inline edits are audited."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Licence, TrackAsset
from arena.core.admin_scoping import CHALLENGE_PATHS, OrganiserScopedAdmin, ScopedRelatedFieldListFilter
from arena.core.errors import NotFound, PermissionDenied
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.datasets.services import dataset_file_download_link
from arena.participation.models import ChallengeBar, Participation, ParticipationStatus
from arena.participation.selectors import data_access
from arena.participation.services import challenge_bar_lift, participation_approve, participation_revoke
from arena.teams import services as teams
from arena.teams.models import Team, TeamMembership
from tests.platform.factories import (
    ChallengeFactory,
    LicenceFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    TrackFactory,
    UserFactory,
    ready_team,
)

pytestmark = pytest.mark.django_db

UNKNOWN_CODE = "No team has that invite code; check it with the team's owner (codes are case-sensitive)."


def _snapshot():
    """Everything a refused team or bar action could have changed."""
    return (
        sorted(TeamMembership.objects.values_list("team_id", "user_id", "role")),
        sorted(Team.objects.values_list("id", "challenge_id", "name", "invite_code")),
        sorted(Participation.objects.values_list("id", "status")),
        sorted(ChallengeBar.objects.values_list("id", "user_id", "lifted_at")),
        AuditEntry.objects.count(),
        DownloadGrant.objects.count(),
    )


# --- invite codes ------------------------------------------------------------------------

@pytest.fixture
def two_challenges():
    owner_a, owner_b, newcomer = UserFactory(), UserFactory(), UserFactory(username="newcomer")
    a = ChallengeFactory(slug="mer-a", title="MER Alpha")
    b = ChallengeFactory(slug="abaw-b", title="ABAW Bravo")
    team_a = teams.team_create(user=owner_a, challenge=a, name="Alpha team")
    team_b = teams.team_create(user=owner_b, challenge=b, name="Bravo team")
    return {"a": a, "b": b, "team_a": team_a, "team_b": team_b, "newcomer": newcomer}


def test_an_invite_code_of_another_challenge_is_refused_as_unknown(two_challenges):
    w = two_challenges
    before = _snapshot()
    with pytest.raises(NotFound) as exc:
        teams.team_join(user=w["newcomer"], challenge=w["a"], invite_code=w["team_b"].invite_code)
    assert (exc.value.message, exc.value.code, exc.value.details) == (
        UNKNOWN_CODE, "invalid_invite_code", {"field": "invite_code"})
    assert _snapshot() == before
    # The code still works on its own challenge's page.
    assert teams.team_join(user=w["newcomer"], challenge=w["b"], invite_code=w["team_b"].invite_code) == w["team_b"]


def test_the_team_page_refuses_another_challenges_code_with_the_unknown_code_message(client, two_challenges):
    w = two_challenges
    client.force_login(w["newcomer"])
    before = _snapshot()
    response = client.post(reverse("team-page", args=["mer-a"]),
                           {"action": "join", "invite_code": w["team_b"].invite_code})
    assert response.status_code == 400
    assert "No team has that invite code" in response.text
    assert "ABAW Bravo" not in response.text and "Bravo team" not in response.text
    assert _snapshot() == before


def test_an_invite_code_of_an_unpublished_challenge_is_refused(client):
    organiser, owner, newcomer = UserFactory(), UserFactory(), UserFactory()
    published = ChallengeFactory(slug="open", title="Open challenge")
    hidden = ChallengeFactory(slug="draft", title="Draft challenge", is_published=False, organisers=[organiser])
    hidden_team = TeamFactory(challenge=hidden, name="Early birds", members=[owner])
    SubmissionFactory(team=hidden_team, phase=PhaseFactory(track__challenge=hidden), method_name="Secret method")
    before = _snapshot()
    for challenge in (published, hidden):
        with pytest.raises(NotFound) as exc:
            teams.team_join(user=newcomer, challenge=challenge, invite_code=hidden_team.invite_code)
        assert exc.value.message == UNKNOWN_CODE
    client.force_login(newcomer)
    response = client.post(reverse("team-page", args=["open"]),
                           {"action": "join", "invite_code": hidden_team.invite_code})
    assert response.status_code == 400 and "No team has that invite code" in response.text
    assert client.post(reverse("team-page", args=["draft"]),
                       {"action": "join", "invite_code": hidden_team.invite_code}).status_code == 404
    with pytest.raises(NotFound):
        teams.team_create(user=newcomer, challenge=hidden, name="Gatecrashers")
    assert _snapshot() == before


# --- revocation bars the people ------------------------------------------------------------

@pytest.fixture
def revoked():
    """An approved team of two that accepted the licence, then revoked; a second, healthy team."""
    organiser = UserFactory(username="org-a")
    owner, mate = UserFactory(username="owner-lima"), UserFactory(username="mate-kilo")
    challenge = ChallengeFactory(slug="mer", title="MER Alpha", organisers=[organiser])
    LicenceFactory(challenge=challenge)
    team = ready_team(challenge=challenge, members=[owner, mate], name="Leakers")
    other = ready_team(challenge=challenge, members=[UserFactory()], name="Honest")
    dataset = Dataset.objects.create(challenge=challenge, slug="train", title="Training data")
    data = b"name,discrete\ns1,happy\n"
    dataset_file = DatasetFile.objects.create(dataset=dataset, name="train.csv", kind="train",
                                              file=ContentFile(data, name="train.csv"), size=len(data),
                                              sha256=hashlib.sha256(data).hexdigest())
    assert participation_revoke(actor=organiser, participation=team.participation,
                                reason="Shared the data with a third party")
    return {"organiser": organiser, "owner": owner, "mate": mate, "challenge": challenge, "team": team,
            "other": other, "file": dataset_file}


def _download(w, user):
    return dataset_file_download_link(user=user, dataset_file_id=w["file"].pk, ip_address="127.0.0.1",
                                      user_agent="test")


def test_revocation_bars_every_member_and_is_audited(revoked):
    w = revoked
    bars = ChallengeBar.objects.filter(challenge=w["challenge"]).order_by("user__username")
    assert [(b.user, b.team_name, b.reason, b.created_by, b.lifted_at) for b in bars] == [
        (w["mate"], "Leakers", "Shared the data with a third party", w["organiser"], None),
        (w["owner"], "Leakers", "Shared the data with a third party", w["organiser"], None),
    ]
    entry = AuditEntry.objects.get(action="participation.revoke")
    assert entry.details == {"team": "Leakers", "reason": "Shared the data with a third party",
                             "barred": ["owner-lima", "mate-kilo"]}


def test_a_barred_member_who_leaves_cannot_form_or_join_a_team_nor_download(revoked):
    w = revoked
    teams.team_leave(user=w["mate"], team=w["team"])
    assert data_access(w["mate"], w["challenge"]).team is None
    before = _snapshot()
    with pytest.raises(PermissionDenied) as exc:
        teams.team_create(user=w["mate"], challenge=w["challenge"], name="Fresh start")
    assert exc.value.code == "participation_revoked"
    assert exc.value.message == ("The organisers of 'MER Alpha' revoked your access: Shared the data with a "
                                 "third party; contact them to have it restored.")
    with pytest.raises(PermissionDenied) as exc:
        teams.team_join(user=w["mate"], challenge=w["challenge"], invite_code=w["other"].invite_code)
    assert exc.value.code == "participation_revoked"
    access = data_access(w["mate"], w["challenge"])
    assert (access.can_download, access.refusal.code, access.bar.user) == (False, "participation_revoked", w["mate"])
    assert "revoked your access" in access.refusal.message and "contact them" in access.refusal.message
    with pytest.raises(PermissionDenied) as exc:
        _download(w, w["mate"])
    assert exc.value.code == "participation_revoked"
    assert _snapshot() == before


def test_the_team_and_data_pages_tell_a_barred_person_to_contact_the_organisers(client, revoked):
    w = revoked
    teams.team_leave(user=w["mate"], team=w["team"])
    client.force_login(w["mate"])
    before = _snapshot()
    url = reverse("team-page", args=["mer"])
    response = client.post(url, {"action": "create", "name": "Fresh start"})
    assert response.status_code == 403
    assert "The organisers revoked your access to this challenge: Shared the data with a third party." in response.text
    assert 'name="invite_code"' not in response.text
    assert _snapshot() == before
    page = client.get(reverse("licence-page", args=["mer"])).text
    assert "revoked your access" in page and "Create or join a team" not in page


def test_people_who_were_not_members_are_not_barred(revoked):
    w = revoked
    newcomer = UserFactory()
    team = teams.team_create(user=newcomer, challenge=w["challenge"], name="Newcomers")
    assert team.memberships.count() == 1
    assert not ChallengeBar.objects.filter(user=newcomer).exists()


def test_lifting_a_bar_lets_the_person_take_part_again(revoked, mailoutbox, django_capture_on_commit_callbacks):
    w = revoked
    teams.team_leave(user=w["mate"], team=w["team"])
    bar = ChallengeBar.objects.get(user=w["mate"])
    stranger = ChallengeFactory(organisers=[UserFactory()]).organisers.get()
    before = _snapshot()
    for actor in (w["owner"], w["mate"], stranger):
        with pytest.raises(PermissionDenied):
            challenge_bar_lift(actor=actor, bar=bar)
    assert _snapshot() == before
    with django_capture_on_commit_callbacks(execute=True):
        assert challenge_bar_lift(actor=w["organiser"], bar=bar)
    assert not challenge_bar_lift(actor=w["organiser"], bar=bar)
    bar.refresh_from_db()
    assert (bar.lifted_by, bar.lifted_at is not None) == (w["organiser"], True)
    entry = AuditEntry.objects.get(action="challenge_bar.lift")
    assert (entry.actor, entry.challenge, entry.target_id) == (w["organiser"], w["challenge"], str(bar.pk))
    assert entry.details == {"user": "mate-kilo", "team": "Leakers", "via": "challenge_bar.lift"}
    assert mailoutbox[-1].to == [w["mate"].email]
    assert mailoutbox[-1].subject == "[MER Alpha] Your access was restored"
    team = teams.team_create(user=w["mate"], challenge=w["challenge"], name="Fresh start")
    assert data_access(w["mate"], w["challenge"]).refusal.code == "licence_not_accepted"
    assert team.memberships.get().user == w["mate"]
    # The owner's bar and the revoked team are untouched.
    assert data_access(w["owner"], w["challenge"]).refusal.code == "participation_revoked"
    assert Participation.objects.get(team=w["team"]).status == ParticipationStatus.REVOKED


def test_re_admitting_the_team_lifts_the_bars_of_its_members_only(revoked):
    w = revoked
    teams.team_leave(user=w["mate"], team=w["team"])
    assert participation_approve(actor=w["organiser"], participation=w["team"].participation)
    assert data_access(w["owner"], w["challenge"]).can_download
    assert list(ChallengeBar.objects.filter(lifted_at__isnull=True).values_list("user", flat=True)) == [w["mate"].pk]
    assert AuditEntry.objects.get(action="participation.approve").details["lifted_bars"] == ["owner-lima"]
    assert AuditEntry.objects.get(action="challenge_bar.lift").details["via"] == "participation.approve"
    with pytest.raises(PermissionDenied):
        teams.team_create(user=w["mate"], challenge=w["challenge"], name="Fresh start")


def test_bars_admin_lists_and_lifts_only_the_organisers_own(client, revoked):
    w = revoked
    other_org = UserFactory(username="org-b")
    b = ChallengeFactory(title="ABAW Bravo", organisers=[other_org])
    b_team = TeamFactory(challenge=b, name="Bravo team", members=[UserFactory(username="bravo-member")])
    participation_revoke(actor=other_org, participation=b_team.participation, reason="Cheating")
    b_bar = ChallengeBar.objects.get(challenge=b)
    mate_bar = ChallengeBar.objects.get(user=w["mate"])
    url = reverse("admin:participation_challengebar_changelist")

    client.force_login(other_org)
    page = client.get(url)
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [b_bar]
    assert "MER Alpha" not in page.text and "mate-kilo" not in page.text
    before = _snapshot()
    client.post(url, {"action": "lift", "_selected_action": [str(mate_bar.pk)]})
    assert _snapshot() == before

    client.force_login(w["organiser"])
    page = client.get(url)
    assert set(page.context["cl"].queryset) == set(ChallengeBar.objects.filter(challenge=w["challenge"]))
    assert "ABAW Bravo" not in page.text and "bravo-member" not in page.text
    client.post(url, {"action": "lift", "_selected_action": [str(mate_bar.pk), str(b_bar.pk)]})
    assert ChallengeBar.objects.get(pk=mate_bar.pk).lifted_by == w["organiser"]
    assert ChallengeBar.objects.get(pk=b_bar.pk).lifted_at is None
    assert client.get(url, {"status": "active"}).context["cl"].result_count == 1  # the owner's


# --- admin filters show only the organiser's own challenges ----------------------------------

@pytest.fixture
def admin_world():
    org_a, org_b = UserFactory(username="org-a"), UserFactory(username="org-b")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    stranger = UserFactory(username="stranger-xyz", email="stranger@example.org")
    a1 = ChallengeFactory(slug="a1", title="Alpha One", organisers=[org_a])
    a2 = ChallengeFactory(slug="a2", title="Alpha Two", organisers=[org_a])
    b = ChallengeFactory(slug="b", title="Bravo Published", organisers=[org_b])
    u = ChallengeFactory(slug="u", title="Unpublished Zulu", is_published=False, organisers=[org_b])
    for challenge in (a1, a2, b, u):
        LicenceFactory(challenge=challenge)
        phase = PhaseFactory(track=TrackFactory(challenge=challenge, title=f"{challenge.title} track"))
        team = ready_team(challenge=challenge, members=[UserFactory()], name=f"{challenge.title} team")
        SubmissionFactory(phase=phase, team=team)
        dataset = Dataset.objects.create(challenge=challenge, slug="d", title=f"{challenge.title} data")
        f = DatasetFile.objects.create(dataset=dataset, name="f.csv", kind="train", file=ContentFile(b"x", name="f"))
        DownloadGrant.objects.create(challenge=challenge, dataset_file=f, file_name="f.csv", storage_key=f.file.name,
                                     team=team, team_name=team.name, issued_at=timezone.now(),
                                     expires_at=timezone.now(), channel="web")
        participation_revoke(actor=root, participation=team.participation, reason="Test")
    return {"org_a": org_a, "org_b": org_b, "root": root, "stranger": stranger, "a1": a1, "a2": a2, "b": b, "u": u}


CHANGELISTS = [
    "challenges_track", "challenges_phase", "teams_team", "participation_participation",
    "participation_licenceacceptance", "participation_challengebar", "submissions_submission",
    "datasets_dataset", "datasets_downloadgrant", "audit_auditentry",
]


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_changelist_filters_name_only_the_organisers_challenges(client, admin_world, changelist):
    w = admin_world
    url = reverse(f"admin:{changelist}_changelist")
    client.force_login(w["org_a"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Alpha One" in page.text and "Alpha Two" in page.text  # the filter is there, with A's own
    assert "Bravo Published" not in page.text
    assert "Unpublished Zulu" not in page.text
    # A crafted filter on B's challenge shows neither its rows nor its name.
    field = {"challenges_phase": "track__challenge", "submissions_submission": "phase__track__challenge",
             "participation_licenceacceptance": "licence__challenge"}.get(changelist, "challenge")
    crafted = client.get(url, {f"{field}__id__exact": w["u"].pk})
    assert "Unpublished Zulu" not in crafted.text
    assert crafted.status_code == 302 or crafted.context["cl"].result_count == 0
    client.force_login(w["root"])
    assert "Unpublished Zulu" in client.get(url).text  # superusers see every challenge


def test_every_organiser_admin_filter_on_a_challenge_or_account_is_scoped():
    unscoped = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, OrganiserScopedAdmin):
            continue
        for entry in model_admin.list_filter:
            if not isinstance(entry, str):
                continue
            field = model
            for part in entry.split("__"):
                field = field._meta.get_field(part)
                field = field.related_model or field
            related = field if isinstance(field, type) else None
            if related is not None and (related._meta.label_lower in CHALLENGE_PATHS
                                        or related._meta.label_lower == "accounts.user"):
                unscoped.append(f"{model.__name__}.{entry}")
    assert unscoped == []
    assert issubclass(ScopedRelatedFieldListFilter, admin.RelatedFieldListFilter)


def test_organiser_form_widgets_offer_only_their_challenges(client, admin_world):
    client.force_login(admin_world["org_a"])
    form = client.get(reverse("admin:challenges_track_add")).context["adminform"].form
    assert {str(label) for _, label in form.fields["challenge"].choices if _} == {"Alpha One", "Alpha Two"}


# --- co-organisers -------------------------------------------------------------------------

def _challenge_post(challenge, **extra):
    starts, ends = timezone.localtime(challenge.starts_at), timezone.localtime(challenge.ends_at)
    licences = list(challenge.licences.order_by("version"))
    data = {
        "title": challenge.title, "slug": challenge.slug, "summary": challenge.summary,
        "is_published": "on" if challenge.is_published else "", "overview": challenge.overview,
        "rules": challenge.rules,
        "starts_at_0": starts.strftime("%Y-%m-%d"), "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"), "ends_at_1": ends.strftime("%H:%M:%S"),
        "max_team_size": challenge.max_team_size, "add_organiser": "",
        "licences-TOTAL_FORMS": len(licences), "licences-INITIAL_FORMS": len(licences),
        "licences-MIN_NUM_FORMS": 0, "licences-MAX_NUM_FORMS": 1000,
    }
    for i, licence in enumerate(licences):
        data.update({f"licences-{i}-id": licence.pk, f"licences-{i}-challenge": challenge.pk,
                     f"licences-{i}-version": licence.version, f"licences-{i}-title": licence.title,
                     f"licences-{i}-text": licence.text})
    data.update(extra)
    return data


def test_organisers_see_no_account_list_on_the_challenge_page(client, admin_world):
    w = admin_world
    url = reverse("admin:challenges_challenge_change", args=[w["a1"].pk])
    client.force_login(w["org_a"])
    page = client.get(url)
    form = page.context["adminform"].form
    assert "organisers" not in form.fields
    assert str(form.fields["add_organiser"].label) == "Add a co-organiser by exact username or e-mail"
    assert 'id="id_organisers' not in page.text
    assert "stranger-xyz" not in page.text and "org-b" not in page.text
    client.force_login(w["root"])
    page = client.get(url)
    assert "organisers" in page.context["adminform"].form.fields
    assert "stranger-xyz" in page.text  # superusers keep the full widget


def test_adding_a_co_organiser_by_exact_username_is_audited(client, admin_world):
    w = admin_world
    a1, stranger = w["a1"], w["stranger"]
    client.force_login(w["org_a"])
    response = client.post(reverse("admin:challenges_challenge_change", args=[a1.pk]),
                           _challenge_post(a1, add_organiser="stranger-xyz"))
    assert response.status_code == 302
    assert set(a1.organisers.values_list("username", flat=True)) == {"org-a", "stranger-xyz"}
    stranger.refresh_from_db()
    assert stranger.is_staff and not stranger.is_superuser
    entry = AuditEntry.objects.get(action="challenge.add_organiser")
    assert (entry.actor, entry.challenge, entry.details) == (w["org_a"], a1, {"user": "stranger-xyz"})
    assert list(AuditEntry.objects.filter(action="admin.change.challenge").values_list("details", flat=True)) == []
    client.force_login(stranger)
    assert client.get(reverse("admin:challenges_challenge_change", args=[a1.pk])).status_code == 200


def test_adding_a_co_organiser_by_e_mail(client, admin_world):
    w = admin_world
    client.force_login(w["org_a"])
    client.post(reverse("admin:challenges_challenge_change", args=[w["a2"].pk]),
                _challenge_post(w["a2"], add_organiser="Stranger@Example.org"))
    assert w["a2"].organisers.filter(pk=w["stranger"].pk).exists()


@pytest.mark.parametrize("login", ["stranger", "STRANGER-XYZ", "nobody@example.org", "stranger-xy", "inactive"])
def test_an_unknown_co_organiser_is_a_form_error_and_changes_nothing(client, admin_world, login):
    w = admin_world
    UserFactory(username="inactive", is_active=False)
    a1 = w["a1"]
    client.force_login(w["org_a"])
    before = (sorted(a1.organisers.values_list("pk", flat=True)), AuditEntry.objects.count(),
              sorted(type(w["stranger"]).objects.filter(is_staff=True).values_list("pk", flat=True)))
    response = client.post(reverse("admin:challenges_challenge_change", args=[a1.pk]),
                           _challenge_post(a1, add_organiser=login, title="Renamed"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["add_organiser"] == [
        "There is no account with that exact username or e-mail; check it with the person."]
    assert (sorted(a1.organisers.values_list("pk", flat=True)), AuditEntry.objects.count(),
            sorted(type(w["stranger"]).objects.filter(is_staff=True).values_list("pk", flat=True))) == before
    a1.refresh_from_db()
    assert a1.title == "Alpha One"


def test_organisers_cannot_set_the_organiser_list_directly(client, admin_world):
    w = admin_world
    a1 = w["a1"]
    client.force_login(w["org_a"])
    response = client.post(reverse("admin:challenges_challenge_change", args=[a1.pk]),
                           _challenge_post(a1, organisers=[w["stranger"].pk, w["org_b"].pk]))
    assert response.status_code == 302
    assert list(a1.organisers.values_list("username", flat=True)) == ["org-a"]


# --- inline admin changes are audited ------------------------------------------------------

def test_an_inline_licence_version_add_is_audited(client, admin_world):
    w = admin_world
    a1 = w["a1"]
    client.force_login(w["org_a"])
    data = _challenge_post(a1)
    data.update({"licences-TOTAL_FORMS": 2, "licences-1-challenge": a1.pk, "licences-1-version": 2,
                 "licences-1-title": "Research licence", "licences-1-text": "New terms."})
    response = client.post(reverse("admin:challenges_challenge_change", args=[a1.pk]), data)
    assert response.status_code == 302
    licence = Licence.objects.get(challenge=a1, version=2)
    entry = AuditEntry.objects.get(action="admin.add.licence")
    assert (entry.actor, entry.challenge, entry.target_type, entry.target_id) == (
        w["org_a"], a1, "challenges.licence", str(licence.pk))
    assert entry.details == {"fields": ["text", "title", "version"], "parent": "Alpha One"}
    assert not AuditEntry.objects.filter(action__startswith="admin.change.").exists()


def test_another_organiser_cannot_add_an_inline_licence(client, admin_world):
    w = admin_world
    a1 = w["a1"]
    client.force_login(w["org_b"])
    before = (Licence.objects.count(), AuditEntry.objects.count())
    data = _challenge_post(a1)
    data.update({"licences-TOTAL_FORMS": 2, "licences-1-challenge": a1.pk, "licences-1-version": 2,
                 "licences-1-title": "Hijack", "licences-1-text": "Hijack."})
    client.post(reverse("admin:challenges_challenge_change", args=[a1.pk]), data)
    assert (Licence.objects.count(), AuditEntry.objects.count()) == before


def _track_post(track, **extra):
    data = {
        "challenge": track.challenge.pk, "title": track.title, "slug": track.slug, "order": track.order,
        "summary": track.summary, "description": track.description, "scorer_key": track.scorer_key,
        "tie_break_metrics": [], "accepts_files": "on",
        "max_upload_mb": track.max_upload_mb, "allow_compressed": "on", "max_per_day": track.max_per_day,
        "max_total": track.max_total, "max_in_flight": track.max_in_flight,
        "container_wall_seconds": track.container_wall_seconds, "container_memory_mb": track.container_memory_mb,
        "container_cpus": str(track.container_cpus), "container_gpus": track.container_gpus,
        "container_pids": track.container_pids, "max_image_mb": track.max_image_mb, "show_container_logs": "on",
        "assets-TOTAL_FORMS": 0, "assets-INITIAL_FORMS": 0, "phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0,
    }
    data.update(extra)
    return data


def test_inline_dataset_file_and_track_asset_changes_are_audited(client, admin_world):
    w = admin_world
    a1 = w["a1"]
    client.force_login(w["org_a"])
    dataset = Dataset.objects.get(challenge=a1)
    old = dataset.files.get()
    body = b"name\ns1\ns2\n"
    response = client.post(reverse("admin:datasets_dataset_change", args=[dataset.pk]), {
        "challenge": a1.pk, "slug": dataset.slug, "title": dataset.title, "description": "", "order": 0,
        "files-TOTAL_FORMS": 2, "files-INITIAL_FORMS": 1,
        "files-0-id": old.pk, "files-0-dataset": dataset.pk, "files-0-name": old.name, "files-0-kind": "train",
        "files-0-DELETE": "on",
        "files-1-dataset": dataset.pk, "files-1-name": "pool.csv", "files-1-kind": "unlabelled_pool",
        "files-1-file": SimpleUploadedFile("pool.csv", body),
    })
    assert response.status_code == 302
    pool = DatasetFile.objects.get(dataset=dataset)
    added = AuditEntry.objects.get(action="admin.add.datasetfile")
    assert (added.target_id, added.challenge, added.details) == (str(pool.pk), a1, {
        "fields": ["file", "kind", "name"], "parent": dataset.title, "sha256": hashlib.sha256(body).hexdigest()})
    deleted = AuditEntry.objects.get(action="admin.delete.datasetfile")
    assert (deleted.target_id, deleted.challenge, deleted.details) == (
        str(old.pk), a1, {"name": "f.csv", "parent": dataset.title})

    track = a1.tracks.get()
    asset = TrackAsset.objects.create(track=track, path="wheel.csv", file=ContentFile(b"a,b\n", name="wheel.csv"))
    data = _track_post(track, **{
        "assets-TOTAL_FORMS": 1, "assets-INITIAL_FORMS": 1, "assets-0-id": asset.pk, "assets-0-track": track.pk,
        "assets-0-path": "wheel-v2.csv", "assets-0-file": SimpleUploadedFile("wheel.csv", b"a,b,c\n"),
    })
    response = client.post(reverse("admin:challenges_track_change", args=[track.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    changed = AuditEntry.objects.get(action="admin.change.trackasset")
    assert (changed.target_id, changed.challenge, changed.details) == (str(asset.pk), a1, {
        "fields": ["file", "path"], "parent": str(track), "sha256": hashlib.sha256(b"a,b,c\n").hexdigest()})


def test_members_of_teams_revoked_before_bars_existed_are_barred_by_the_migration():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("arena.participation.migrations.0003_challenge_bar")
    organiser, owner, mate = UserFactory(), UserFactory(), UserFactory()
    challenge = ChallengeFactory(organisers=[organiser])
    team = TeamFactory(challenge=challenge, name="Old offenders", members=[owner, mate],
                       participation=ParticipationStatus.REVOKED)
    Participation.objects.filter(team=team).update(decided_by=organiser, decision_reason="Leaked labels")
    TeamFactory(challenge=challenge, members=[UserFactory()])  # approved: nobody barred
    migration.bar_members_of_revoked_teams(apps, None)
    migration.bar_members_of_revoked_teams(apps, None)  # safe to run twice
    assert sorted(ChallengeBar.objects.values_list("user", "team_name", "reason", "created_by", "lifted_at")) == sorted(
        [(owner.pk, "Old offenders", "Leaked labels", organiser.pk, None),
         (mate.pk, "Old offenders", "Leaked labels", organiser.pk, None)])
