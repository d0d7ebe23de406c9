"""A licence per dataset: downloads of a dataset's files need its own licence on top of the
challenge licence; submissions need the challenge licence only."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Licence
from arena.challenges.selectors import challenge_current_licence
from arena.core.errors import PermissionDenied
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.participation.models import LicenceAcceptance, ParticipationStatus
from arena.participation.selectors import data_access
from arena.participation.services import licence_accept, licence_acceptance_approve
from arena.submissions.services.intake import submission_intake_team
from tests.platform.factories import ChallengeFactory, LicenceFactory, PhaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.5\nsigned for C-EXPR-DB\n%%EOF\n"


def _file(dataset, name, data):
    return DatasetFile.objects.create(dataset=dataset, name=name, kind="train", file=ContentFile(data, name=name),
                                      size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _accept(team, licence, user):
    return LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=user, full_name="Ana Member",
                                            affiliation="Lab", accepted_on=timezone.localdate())


@pytest.fixture
def abaw():
    """Challenge licence accepted; Aff-Wild2's licence accepted; C-EXPR-DB's licence (signed PDF and
    approval required) not accepted."""
    organiser, other_organiser = UserFactory(username="org"), UserFactory(username="org-b")
    member, outsider = UserFactory(username="member"), UserFactory(username="outsider")
    challenge = ChallengeFactory(slug="abaw", title="ABAW", organisers=[organiser])
    other = ChallengeFactory(slug="mer", title="MER", organisers=[other_organiser])
    challenge_licence = LicenceFactory(challenge=challenge, version=1, title="ABAW EULA")
    aff = Dataset.objects.create(challenge=challenge, slug="aff-wild2", title="Aff-Wild2", order=0)
    cexpr = Dataset.objects.create(challenge=challenge, slug="c-expr-db", title="C-EXPR-DB", order=1)
    licence_a = LicenceFactory(challenge=challenge, dataset=aff, version=1, title="Aff-Wild2 EULA")
    licence_b = LicenceFactory(challenge=challenge, dataset=cexpr, version=1, title="C-EXPR-DB EULA",
                               requires_signed_agreement=True, requires_approval=True)
    team = TeamFactory(challenge=challenge, name="Lab team", members=[member],
                       participation=ParticipationStatus.APPROVED)
    TeamFactory(challenge=other, name="Other", members=[outsider], participation=ParticipationStatus.APPROVED)
    _accept(team, challenge_licence, member)
    _accept(team, licence_a, member)
    return {"organiser": organiser, "other_organiser": other_organiser, "member": member, "outsider": outsider,
            "challenge": challenge, "challenge_licence": challenge_licence, "aff": aff, "cexpr": cexpr,
            "licence_a": licence_a, "licence_b": licence_b, "team": team,
            "file_a": _file(aff, "aff-train.csv", b"aff data"), "file_b": _file(cexpr, "cexpr-train.csv", b"cexpr")}


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _download(user, dataset_file):
    return _client(user).post(f"/api/v1/dataset-files/{dataset_file.pk}/download-url")


def _refused(user, dataset_file, code, *, status=403):
    grants = DownloadGrant.objects.count()
    response = _download(user, dataset_file)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert DownloadGrant.objects.count() == grants
    return response.json()["message"]


def test_accepted_dataset_licence_opens_that_dataset_only(abaw):
    assert _download(abaw["member"], abaw["file_a"]).status_code == 200
    message = _refused(abaw["member"], abaw["file_b"], "dataset_licence_not_accepted")
    assert message == ("'C-EXPR-DB' has its own licence: accept it for your team on its licence page "
                       "before downloading its files.")
    assert list(DownloadGrant.objects.values_list("dataset_file", flat=True)) == [abaw["file_a"].pk]
    # The web download is refused the same way.
    web = _client(abaw["member"]).post(reverse("dataset-file-download", args=["abaw", abaw["file_b"].pk]))
    assert web.status_code == 403
    assert "C-EXPR-DB" in web.text
    assert DownloadGrant.objects.count() == 1


def test_accept_sign_and_approval_open_the_second_dataset(abaw):
    member, client = abaw["member"], _client(abaw["member"])
    base = "/api/v1/challenges/abaw/datasets/c-expr-db/licence"
    status = client.get(base).json()
    assert status["licence"] == {"version": 1, "title": "C-EXPR-DB EULA", "text": "Use for research only."}
    assert status["missing"]["code"] == "dataset_licence_not_accepted"
    assert status["can_download"] is False

    accepted = client.post(f"{base}/accept", {"full_name": "Ana Member", "affiliation": "Lab"},
                           content_type="application/json")
    assert accepted.status_code == 201
    assert accepted.json()["licence_version"] == 1 and accepted.json()["approved_at"] is None
    assert _refused(member, abaw["file_b"], "dataset_agreement_missing") == (
        "Upload the signed agreement (PDF) for the licence of 'C-EXPR-DB' before downloading its files.")

    uploaded = client.post(f"{base}/agreement", {"file": SimpleUploadedFile("s.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 201
    assert uploaded.json()["agreement_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert "approve" in _refused(member, abaw["file_b"], "dataset_approval_pending")

    acceptance = LicenceAcceptance.objects.get(team=abaw["team"], licence=abaw["licence_b"])
    with pytest.raises(PermissionDenied):
        licence_acceptance_approve(actor=abaw["other_organiser"], acceptance=acceptance)
    acceptance.refresh_from_db()
    assert acceptance.approved_at is None
    assert licence_acceptance_approve(actor=abaw["organiser"], acceptance=acceptance) is True
    assert licence_acceptance_approve(actor=abaw["organiser"], acceptance=acceptance) is False
    assert AuditEntry.objects.filter(action="licence.approve", challenge=abaw["challenge"]).count() == 1
    assert _download(member, abaw["file_b"]).status_code == 200
    assert client.get(base).json()["missing"] is None


def test_submitting_needs_the_challenge_licence_only(abaw):
    phase = PhaseFactory(track__challenge=abaw["challenge"])
    assert data_access(abaw["member"], abaw["challenge"], action="submit").refusal is None
    assert submission_intake_team(user=abaw["member"], phase=phase) == abaw["team"]
    # A team that accepted no dataset licence at all may still submit.
    loner = UserFactory(username="loner")
    team = TeamFactory(challenge=abaw["challenge"], name="Loners", members=[loner],
                       participation=ParticipationStatus.APPROVED)
    _accept(team, abaw["challenge_licence"], loner)
    assert submission_intake_team(user=loner, phase=phase) == team
    _refused(loner, abaw["file_a"], "dataset_licence_not_accepted")


def test_new_version_of_one_dataset_licence_needs_acceptance_for_that_dataset_only(abaw):
    acceptance = _accept(abaw["team"], abaw["licence_b"], abaw["member"])
    acceptance.signed_agreement.save("s.pdf", ContentFile(PDF), save=True)
    licence_acceptance_approve(actor=abaw["organiser"], acceptance=acceptance)
    assert _download(abaw["member"], abaw["file_b"]).status_code == 200
    LicenceFactory(challenge=abaw["challenge"], dataset=abaw["cexpr"], version=2, title="C-EXPR-DB EULA")
    assert challenge_current_licence(abaw["challenge"]) == abaw["challenge_licence"]
    message = _refused(abaw["member"], abaw["file_b"], "dataset_licence_not_accepted")
    assert "now version 2; your team accepted version 1" in message
    assert _download(abaw["member"], abaw["file_a"]).status_code == 200
    assert data_access(abaw["member"], abaw["challenge"]).can_download


def test_challenge_licence_is_not_replaced_by_a_dataset_licence(abaw):
    LicenceFactory(challenge=abaw["challenge"], dataset=abaw["aff"], version=7, title="Aff-Wild2 EULA")
    status = _client(abaw["member"]).get("/api/v1/challenges/abaw/licence").json()
    assert status["licence"]["title"] == "ABAW EULA" and status["can_download"] is True
    fresh = UserFactory(username="fresh")
    TeamFactory(challenge=abaw["challenge"], name="Fresh", members=[fresh])
    acceptance = licence_accept(user=fresh, challenge=abaw["challenge"], full_name="Fresh One", affiliation="Lab",
                                accepted_on=timezone.localdate())
    assert acceptance.licence == abaw["challenge_licence"]


def test_who_may_download_a_licensed_dataset(abaw):
    assert _download(abaw["organiser"], abaw["file_b"]).status_code == 200  # organisers need no acceptance
    _refused(abaw["outsider"], abaw["file_b"], "not_in_team")  # in a team of another challenge
    _refused(abaw["other_organiser"], abaw["file_b"], "not_in_team")
    no_team = UserFactory(username="no-team")
    _refused(no_team, abaw["file_b"], "not_in_team")  # the challenge rules come first


def test_datasets_api_and_page_show_what_is_missing_per_dataset(abaw):
    listing = _client(abaw["member"]).get("/api/v1/challenges/abaw/datasets").json()
    assert [d["licence"] for d in listing] == [
        {"title": "Aff-Wild2 EULA", "version": 1, "requires_signed_agreement": False, "requires_approval": False,
         "accepted": True, "missing": None, "message": None},
        {"title": "C-EXPR-DB EULA", "version": 1, "requires_signed_agreement": True, "requires_approval": True,
         "accepted": False, "missing": "dataset_licence_not_accepted",
         "message": "'C-EXPR-DB' has its own licence: accept it for your team on its licence page "
                    "before downloading its files."},
    ]
    page = _client(abaw["member"]).get(reverse("dataset-list", args=["abaw"]))
    assert page.status_code == 200
    assert page.text.count('aria-label="Download ') == 1  # Aff-Wild2's file only
    assert reverse("dataset-licence-page", args=["abaw", "c-expr-db"]) in page.text


def test_dataset_licence_page_accepts_for_the_team(abaw):
    client = _client(abaw["member"])
    url = reverse("dataset-licence-page", args=["abaw", "c-expr-db"])
    page = client.get(url)
    assert page.status_code == 200 and "C-EXPR-DB EULA (version 1)" in page.text
    response = client.post(url, {"full_name": "Ana Member", "affiliation": "Lab",
                                 "accepted_on": timezone.localdate().isoformat(), "confirm": "on"})
    assert response.status_code == 302, response.content
    acceptance = LicenceAcceptance.objects.get(team=abaw["team"], licence=abaw["licence_b"])
    entry = AuditEntry.objects.get(action="licence.accept", target_id=str(acceptance.pk))
    assert entry.details["dataset"] == "c-expr-db"
    # A dataset without a licence of its own has no licence page.
    Dataset.objects.create(challenge=abaw["challenge"], slug="plain", title="Plain")
    assert client.get(reverse("dataset-licence-page", args=["abaw", "plain"])).status_code == 404


def test_organisers_attach_a_licence_to_their_own_datasets_in_the_admin(abaw):
    url = reverse("admin:challenges_datasetlicence_add")
    data = {"dataset": abaw["aff"].pk, "version": 2, "title": "Aff-Wild2 EULA", "text": "New terms.",
            "requires_signed_agreement": "on"}
    refused = _client(abaw["other_organiser"]).post(url, data)
    assert refused.status_code == 200  # the dataset is not among the choices
    assert not Licence.objects.filter(dataset=abaw["aff"], version=2).exists()

    response = _client(abaw["organiser"]).post(url, data)
    assert response.status_code == 302
    licence = Licence.objects.get(dataset=abaw["aff"], version=2)
    assert licence.challenge == abaw["challenge"] and licence.requires_signed_agreement
    assert AuditEntry.objects.filter(action="admin.add.datasetlicence", target_id=str(licence.pk),
                                     challenge=abaw["challenge"]).count() == 1
    # The challenge's own licence inline does not list dataset licences.
    change = _client(abaw["organiser"]).get(reverse("admin:challenges_challenge_change",
                                                    args=[abaw["challenge"].pk]))
    assert "New terms." not in change.text


def test_organisers_approve_acceptances_in_the_admin(abaw):
    acceptance = _accept(abaw["team"], abaw["licence_b"], abaw["member"])
    url = reverse("admin:participation_licenceacceptance_changelist")
    action = {"action": "approve", "_selected_action": [acceptance.pk]}
    response = _client(abaw["organiser"]).post(url, action, follow=True)
    assert "has not uploaded the signed copy" in response.text
    acceptance.refresh_from_db()
    assert acceptance.approved_at is None
    acceptance.signed_agreement.save("s.pdf", ContentFile(PDF), save=True)
    _client(abaw["organiser"]).post(url, action)
    acceptance.refresh_from_db()
    assert acceptance.approved_by == abaw["organiser"]
