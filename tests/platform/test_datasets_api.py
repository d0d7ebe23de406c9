"""The datasets and licence API: exact shapes, the error shape, and a valid OpenAPI schema."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.participation.models import LicenceAcceptance, ParticipationStatus
from tests.platform.factories import ChallengeFactory, LicenceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def abaw():
    organiser, member = UserFactory(username="org"), UserFactory(username="member")
    challenge = ChallengeFactory(slug="abaw", requires_approval=True, requires_signed_agreement=True,
                                 organisers=[organiser])
    LicenceFactory(challenge=challenge, version=1, title="EULA", text="Old terms.")
    licence = LicenceFactory(challenge=challenge, version=2, title="EULA", text="Research only.")
    team = TeamFactory(challenge=challenge, name="Lab", members=[member], participation=ParticipationStatus.PENDING)
    dataset = Dataset.objects.create(challenge=challenge, slug="aff-wild2", title="Aff-Wild2", description="Videos.")
    data = b"name,label\nv1,0\n"
    train = DatasetFile.objects.create(dataset=dataset, name="train.csv", kind="train",
                                       file=ContentFile(data, name="train.csv"), size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest())
    return {"organiser": organiser, "member": member, "challenge": challenge, "licence": licence, "team": team,
            "train": train, "data": data}


def test_datasets_list(client, abaw):
    response = client.get("/api/v1/challenges/abaw/datasets")
    assert response.status_code == 200
    assert response.json() == [{
        "slug": "aff-wild2", "title": "Aff-Wild2", "description": "Videos.", "licence": None,
        "files": [{"id": abaw["train"].pk, "name": "train.csv", "kind": "train", "size": 16,
                   "sha256": hashlib.sha256(abaw["data"]).hexdigest(), "hidden_from_participants": False}],
    }]


def test_unknown_or_unpublished_challenge_is_404_in_the_error_shape(client, abaw):
    ChallengeFactory(slug="draft", is_published=False)
    for slug in ("nope", "draft"):
        response = client.get(f"/api/v1/challenges/{slug}/datasets")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": f"No challenge '{slug}'.", "details": {}}


def test_licence_flow_over_the_api(client, abaw, settings):
    client.force_login(abaw["member"])
    status = client.get("/api/v1/challenges/abaw/licence").json()
    assert status == {
        "licence": {"version": 2, "title": "EULA", "text": "Research only."},
        "requires_approval": True, "requires_signed_agreement": True, "is_organiser": False,
        "team": "Lab", "participation_status": "pending", "acceptance": None, "can_download": False,
        "refusal": {"code": "licence_not_accepted", "message": "Accept the licence for your team before downloading."},
    }
    response = client.post("/api/v1/challenges/abaw/licence/accept", {"full_name": "", "affiliation": "Lab"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["details"]["fields"]["full_name"] == ["This field may not be blank."]
    response = client.post("/api/v1/challenges/abaw/licence/accept",
                           {"full_name": "Ada  Lovelace", "affiliation": "Analytical Lab"},
                           content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {
        "licence_version": 2, "full_name": "Ada Lovelace", "affiliation": "Analytical Lab",
        "accepted_on": timezone.localdate().isoformat(), "accepted_by": "member", "agreement_uploaded": False,
        "agreement_sha256": "", "agreement_size": 0, "agreement_uploaded_at": None,
    }
    again = client.post("/api/v1/challenges/abaw/licence/accept", {"full_name": "A", "affiliation": "B"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_accepted"
    pdf = b"%PDF-1.7\nsigned\n"
    response = client.post("/api/v1/challenges/abaw/licence/agreement",
                           {"file": SimpleUploadedFile("signed.pdf", pdf)})
    assert response.status_code == 201
    body = response.json()
    assert (body["agreement_uploaded"], body["agreement_size"], body["agreement_sha256"]) == (
        True, len(pdf), hashlib.sha256(pdf).hexdigest())
    status = client.get("/api/v1/challenges/abaw/licence").json()
    assert status["refusal"]["code"] == "approval_pending"
    response = client.post(f"/api/v1/dataset-files/{abaw['train'].pk}/download-url")
    assert response.status_code == 403
    assert response.json() == {"code": "approval_pending",
                               "message": "Your team is waiting for the organisers' approval; you will get an e-mail.",
                               "details": {}}
    abaw["team"].participation.status = ParticipationStatus.APPROVED
    abaw["team"].participation.save()
    settings.ARENA_DOWNLOAD_URL_SECONDS = 60
    response = client.post(f"/api/v1/dataset-files/{abaw['train'].pk}/download-url",
                           headers={"User-Agent": "arena-client/1.0"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"url", "expires_at", "sha256", "size"}
    assert body["url"].startswith("http://testserver/files/")
    assert (body["sha256"], body["size"]) == (abaw["train"].sha256, 16)
    grant = DownloadGrant.objects.get()
    assert (grant.channel, grant.user_agent, grant.ip_address) == ("api", "arena-client/1.0", "127.0.0.1")
    assert body["expires_at"] == grant.expires_at.isoformat().replace("+00:00", "Z")
    fetched = client.get(body["url"].removeprefix("http://testserver"))
    assert hashlib.sha256(b"".join(fetched.streaming_content)).hexdigest() == body["sha256"]
    assert LicenceAcceptance.objects.get().licence == abaw["licence"]


def test_agreement_upload_refuses_non_pdf_with_the_field(client, abaw):
    client.force_login(abaw["member"])
    client.post("/api/v1/challenges/abaw/licence/accept", {"full_name": "A", "affiliation": "B"})
    response = client.post("/api/v1/challenges/abaw/licence/agreement",
                           {"file": SimpleUploadedFile("signed.pdf", b"\x89PNG\r\n")})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_agreement", "message": "The signed agreement must be a PDF file.",
                               "details": {"field": "file"}}
    missing = client.post("/api/v1/challenges/abaw/licence/agreement", {})
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"


def test_schema_documents_every_dataset_and_licence_operation_and_is_valid():
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    validate_schema(schema)
    operations = {(path, method): op["operationId"] for path, item in schema["paths"].items()
                  for method, op in item.items()}
    assert operations[("/api/v1/challenges/{slug}/datasets", "get")] == "challenge_datasets"
    assert operations[("/api/v1/dataset-files/{file_id}/download-url", "post")] == "dataset_file_download_url"
    assert operations[("/api/v1/challenges/{slug}/licence", "get")] == "licence_status"
    assert operations[("/api/v1/challenges/{slug}/licence/accept", "post")] == "licence_accept"
    assert operations[("/api/v1/challenges/{slug}/licence/agreement", "post")] == "licence_agreement_upload"
    download = schema["paths"]["/api/v1/dataset-files/{file_id}/download-url"]["post"]
    assert set(download["responses"]) == {"200", "403", "404"}
    agreement = schema["paths"]["/api/v1/challenges/{slug}/licence/agreement"]["post"]
    assert list(agreement["requestBody"]["content"]) == ["multipart/form-data"]
    assert set(schema["components"]["schemas"]["DownloadUrl"]["required"]) == {"url", "expires_at", "sha256", "size"}
