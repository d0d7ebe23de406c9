"""The licence flow: accept per team and version, signed agreement, organiser decisions, revocation."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Licence
from arena.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from arena.participation.models import LicenceAcceptance, Participation, ParticipationStatus
from arena.participation.selectors import data_access
from arena.participation.services import (
    licence_accept,
    licence_agreement_upload,
    participation_approve,
    participation_deny,
    participation_revoke,
)
from arena.teams.services import team_create
from tests.platform.factories import ChallengeFactory, LicenceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(data: bytes = PDF, name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def upload(g, data: bytes = PDF) -> str:
    """Upload a signed agreement as the team owner; the stored key."""
    return licence_agreement_upload(user=g["owner"], challenge=g["challenge"], upload=pdf(data)).signed_agreement.name


@pytest.fixture
def gated():
    """An ABAW-style challenge: approval and a signed agreement required; one pending team."""
    organiser, owner, mate = UserFactory(username="org"), UserFactory(username="owner"), UserFactory(username="mate")
    challenge = ChallengeFactory(slug="abaw", title="ABAW", requires_approval=True, requires_signed_agreement=True,
                                 organisers=[organiser])
    licence = LicenceFactory(challenge=challenge, version=1)
    team = TeamFactory(challenge=challenge, name="Lab", members=[owner, mate],
                       participation=ParticipationStatus.PENDING)
    return {"organiser": organiser, "owner": owner, "mate": mate, "challenge": challenge,
            "licence": licence, "team": team}


def accept(g, user=None, **overrides):
    kwargs = {"full_name": "Ada Lovelace", "affiliation": "Analytical Lab", "accepted_on": timezone.localdate()}
    return licence_accept(user=user or g["owner"], challenge=g["challenge"], **{**kwargs, **overrides})


def refusal_code(g, user=None):
    access = data_access(user or g["owner"], g["challenge"])
    return access.refusal.code if access.refusal else None


def test_full_gated_flow_reaches_download(gated, mailoutbox, django_capture_on_commit_callbacks):
    assert refusal_code(gated) == "licence_not_accepted"
    acceptance = accept(gated)
    assert (acceptance.team, acceptance.licence, acceptance.accepted_by) == (
        gated["team"], gated["licence"], gated["owner"])
    assert refusal_code(gated) == "agreement_missing"
    with django_capture_on_commit_callbacks(execute=True):
        licence_agreement_upload(user=gated["mate"], challenge=gated["challenge"], upload=pdf())
    acceptance.refresh_from_db()
    assert acceptance.agreement_size == len(PDF)
    assert acceptance.agreement_uploaded_by == gated["mate"]
    assert default_storage.open(acceptance.signed_agreement.name).read() == PDF
    assert acceptance.signed_agreement.name.startswith("signed-agreements/")
    assert [m.to for m in mailoutbox] == [[gated["organiser"].email]]
    assert "Signed agreement from team 'Lab'" in mailoutbox[0].subject
    assert refusal_code(gated) == "approval_pending"
    with django_capture_on_commit_callbacks(execute=True):
        assert participation_approve(actor=gated["organiser"], participation=gated["team"].participation)
    assert refusal_code(gated) is None
    assert refusal_code(gated, gated["mate"]) is None
    assert sorted(mailoutbox[1].to) == sorted([gated["owner"].email, gated["mate"].email])
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "licence.accept", "licence.agreement_upload", "participation.approve"]


def test_one_acceptance_per_team_and_version(gated):
    accept(gated)
    with pytest.raises(Conflict) as exc:
        accept(gated, user=gated["mate"], full_name="Someone Else")
    assert exc.value.code == "already_accepted"
    assert LicenceAcceptance.objects.get().full_name == "Ada Lovelace"


@pytest.mark.parametrize("overrides,field", [
    ({"full_name": "  "}, "full_name"),
    ({"affiliation": ""}, "affiliation"),
    ({"accepted_on": timezone.localdate() - timedelta(days=3)}, "accepted_on"),
    ({"accepted_on": timezone.localdate() + timedelta(days=2)}, "accepted_on"),
])
def test_acceptance_needs_name_affiliation_and_todays_date(gated, overrides, field):
    with pytest.raises(DomainError) as exc:
        accept(gated, **overrides)
    assert exc.value.details == {"field": field}
    assert not LicenceAcceptance.objects.exists()


def test_acceptance_is_for_a_team_and_a_published_licence(gated):
    with pytest.raises(PermissionDenied) as exc:
        accept(gated, user=UserFactory())
    assert exc.value.code == "not_in_team"
    Licence.objects.all().delete()
    with pytest.raises(NotFound):
        accept(gated)
    assert refusal_code(gated) == "no_licence"


def test_a_new_licence_version_needs_acceptance_again(gated):
    accept(gated)
    licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    participation_approve(actor=gated["organiser"], participation=gated["team"].participation)
    assert refusal_code(gated) is None
    LicenceFactory(challenge=gated["challenge"], version=2, text="New terms.")
    access = data_access(gated["owner"], gated["challenge"])
    assert access.refusal.code == "licence_not_accepted"
    assert "now version 2; your team accepted version 1" in access.refusal.message
    assert access.needs_acceptance and access.previous_acceptance.licence.version == 1
    accept(gated)
    assert refusal_code(gated) == "agreement_missing"  # the signed copy is of a version, too
    licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    assert refusal_code(gated) is None
    assert LicenceAcceptance.objects.filter(team=gated["team"]).count() == 2


@pytest.mark.parametrize("data,name,code", [
    (b"<html>not a pdf</html>", "signed.pdf", "invalid_agreement"),
    (b"PK\x03\x04zip", "signed.pdf", "invalid_agreement"),
    (b"", "signed.pdf", "invalid_agreement"),
    (PDF + b"x" * 200, "signed.pdf", "agreement_too_large"),
])
def test_agreement_must_be_a_pdf_within_the_cap(gated, settings, data, name, code):
    settings.ARENA_AGREEMENT_MAX_BYTES = 100
    accept(gated)
    with pytest.raises(DomainError) as exc:
        licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf(data, name))
    assert exc.value.code == code
    acceptance = LicenceAcceptance.objects.get()
    assert (acceptance.signed_agreement.name, acceptance.agreement_sha256) == ("", "")


def test_agreement_rules(gated):
    with pytest.raises(Conflict) as exc:
        licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    assert exc.value.code == "licence_not_accepted"
    accept(gated)
    first = upload(gated)
    second = upload(gated, PDF + b"% v2\n")
    assert first != second
    participation_approve(actor=gated["organiser"], participation=gated["team"].participation)
    with pytest.raises(Conflict) as exc:
        licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    assert exc.value.code == "already_approved"
    assert LicenceAcceptance.objects.get().signed_agreement.name == second


def test_replacing_the_agreement_deletes_the_old_file(gated, django_capture_on_commit_callbacks):
    accept(gated)
    first = upload(gated)
    with django_capture_on_commit_callbacks(execute=True):
        upload(gated, PDF + b"%2\n")
    assert not default_storage.exists(first)


def test_agreement_not_asked_for_is_refused():
    user = UserFactory()
    challenge = ChallengeFactory()
    LicenceFactory(challenge=challenge)
    TeamFactory(challenge=challenge, members=[user])
    with pytest.raises(Conflict) as exc:
        licence_agreement_upload(user=user, challenge=challenge, upload=pdf())
    assert exc.value.code == "agreement_not_required"


def test_a_denied_team_uploading_a_new_agreement_asks_again(gated):
    accept(gated)
    licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    participation_deny(actor=gated["organiser"], participation=gated["team"].participation,
                       reason="Not signed by a faculty member")
    assert refusal_code(gated) == "participation_denied"
    licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf(PDF + b"%2\n"))
    assert Participation.objects.get(team=gated["team"]).status == ParticipationStatus.PENDING


def test_revoke_needs_a_reason_mails_the_team_and_stops_downloads(gated, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    accept(gated)
    licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    participation = gated["team"].participation
    participation_approve(actor=gated["organiser"], participation=participation)
    with pytest.raises(DomainError) as exc:
        participation_revoke(actor=gated["organiser"], participation=participation, reason=" ")
    assert exc.value.code == "reason_required"
    with pytest.raises(PermissionDenied):
        participation_revoke(actor=gated["owner"], participation=participation, reason="self")
    assert Participation.objects.get(pk=participation.pk).status == ParticipationStatus.APPROVED
    with django_capture_on_commit_callbacks(execute=True):
        assert participation_revoke(actor=gated["organiser"], participation=participation,
                                    reason="Shared the data with a third party")
    assert not participation_revoke(actor=gated["organiser"], participation=participation, reason="again")
    assert refusal_code(gated) == "participation_revoked"
    assert "Shared the data with a third party" in data_access(gated["owner"], gated["challenge"]).refusal.message
    assert mailoutbox[-1].subject == "[ABAW] Your team's access was revoked"
    assert "Shared the data with a third party" in mailoutbox[-1].body
    with pytest.raises(PermissionDenied) as exc:
        licence_agreement_upload(user=gated["owner"], challenge=gated["challenge"], upload=pdf())
    assert exc.value.code == "participation_revoked"
    assert participation_approve(actor=gated["organiser"], participation=participation)  # re-admitted
    assert refusal_code(gated) is None


def test_auto_approved_challenge_needs_only_acceptance():
    user = UserFactory()
    challenge = ChallengeFactory(requires_approval=False)
    LicenceFactory(challenge=challenge)
    team_create(user=user, challenge=challenge, name="Solo")
    assert data_access(user, challenge).refusal.code == "licence_not_accepted"
    licence_accept(user=user, challenge=challenge, full_name="Solo Person", affiliation="Home",
                   accepted_on=timezone.localdate())
    assert data_access(user, challenge).can_download


def test_organisers_need_no_team_and_strangers_are_told_to_join(gated):
    assert data_access(gated["organiser"], gated["challenge"]).can_download
    assert refusal_code(gated, UserFactory()) == "not_in_team"


# --- pages -----------------------------------------------------------------------------

def test_licence_page_walks_a_team_through_the_steps(client, gated):
    client.force_login(gated["owner"])
    url = reverse("licence-page", args=["abaw"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Use for research only." in page.text
    assert "Accept version 1" in page.text
    assert "Accept the licence for your team before downloading." in page.text
    response = client.post(url, {"full_name": "Ada Lovelace", "affiliation": "Analytical Lab",
                                 "accepted_on": timezone.localdate().isoformat()})
    assert response.status_code == 400  # the confirmation box is required
    assert not LicenceAcceptance.objects.exists()
    response = client.post(url, {"full_name": "Ada Lovelace", "affiliation": "Analytical Lab",
                                 "accepted_on": timezone.localdate().isoformat(), "confirm": "on"})
    assert response.status_code == 302
    page = client.get(url)
    assert "version 1 accepted by Ada Lovelace (Analytical Lab)" in page.text
    assert "Upload the signed agreement" in page.text
    bad = client.post(reverse("licence-agreement", args=["abaw"]),
                      {"file": SimpleUploadedFile("a.pdf", b"GIF89a")})
    assert bad.status_code == 400
    assert "must be a PDF file" in bad.text
    good = client.post(reverse("licence-agreement", args=["abaw"]), {"file": pdf()})
    assert good.status_code == 302
    page = client.get(url)
    assert "Waiting for organiser approval" in page.text
    assert "Replace the signed agreement" in page.text


def test_licence_page_tells_a_second_member_it_is_done(client, gated):
    accept(gated)
    client.force_login(gated["mate"])
    response = client.post(reverse("licence-page", args=["abaw"]), {
        "full_name": "Mate", "affiliation": "Lab", "accepted_on": timezone.localdate().isoformat(),
        "confirm": "on"})
    assert response.status_code == 409
    assert "Your team already accepted version 1 of the licence" in response.text
    assert LicenceAcceptance.objects.count() == 1
