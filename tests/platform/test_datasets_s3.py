"""Dataset storage on S3: a loopback S3 server, real HTTP, real presigned URLs, multipart uploads."""

import hashlib
import io
import os
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.datasets.services import dataset_file_register, dataset_file_upload_ticket
from arena.participation.models import LicenceAcceptance
from arena.participation.services import licence_agreement_upload
from tests.platform.factories import ChallengeFactory, LicenceFactory, PhaseFactory, TeamFactory, UserFactory
from tests.platform.s3 import MULTIPART_THRESHOLD

pytestmark = [pytest.mark.django_db, pytest.mark.s3]

BIG = os.urandom(MULTIPART_THRESHOLD + 1024 * 1024)  # 6 MiB: two parts of a multipart upload


@pytest.fixture
def world(s3_storage):
    organiser, member = UserFactory(username="org"), UserFactory(username="member")
    challenge = ChallengeFactory(slug="abaw", requires_approval=True, requires_signed_agreement=True,
                                 organisers=[organiser])
    licence = LicenceFactory(challenge=challenge)
    team = TeamFactory(challenge=challenge, name="Lab", members=[member])
    LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=member, full_name="M",
                                     affiliation="Lab", accepted_on=timezone.localdate(),
                                     signed_agreement=ContentFile(b"%PDF-1.4\n", name="signed.pdf"))
    dataset = Dataset.objects.create(challenge=challenge, slug="aff-wild2", title="Aff-Wild2")
    return {"bucket": s3_storage, "organiser": organiser, "member": member, "challenge": challenge,
            "team": team, "dataset": dataset, "licence": licence}


def test_default_storage_is_the_private_bucket(world):
    from storages.backends.s3 import S3Storage

    assert isinstance(default_storage, S3Storage)
    key = default_storage.save("datasets/abc/x.txt", ContentFile(b"private"))
    bucket = world["bucket"]
    assert bucket.client().get_object(Bucket=bucket.name, Key=key)["Body"].read() == b"private"
    assert requests.get(bucket.unsigned_url(key), timeout=10).status_code == 403


def test_multipart_upload_then_presigned_download_with_checksum(client, world, settings):
    settings.ARENA_DOWNLOAD_URL_SECONDS = 120
    bucket = world["bucket"]
    dataset_file = DatasetFile.objects.create(
        dataset=world["dataset"], name="train.bin", kind="train", file=ContentFile(BIG, name="train.bin"),
        size=len(BIG), sha256=hashlib.sha256(BIG).hexdigest(),
    )
    head = bucket.client().head_object(Bucket=bucket.name, Key=dataset_file.file.name)
    assert head["ETag"].endswith('-2"')  # boto3's managed transfer sent two parts
    assert head["ContentLength"] == len(BIG)

    client.force_login(world["member"])
    response = client.post(reverse("api:dataset-file-download-url", args=[dataset_file.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["size"], body["sha256"]) == (len(BIG), hashlib.sha256(BIG).hexdigest())
    query = parse_qs(urlparse(body["url"]).query)
    assert body["url"].startswith(f"{bucket.endpoint_url}/{bucket.name}/datasets/")
    assert query["X-Amz-Expires"] == ["120"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert len(query["X-Amz-Signature"][0]) == 64
    assert query["response-content-disposition"] == ['attachment; filename="train.bin"']

    fetched = requests.get(body["url"], timeout=30)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == body["sha256"]
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="train.bin"'
    ranged = requests.get(body["url"], headers={"Range": "bytes=0-99"}, timeout=30)
    assert (ranged.status_code, ranged.content) == (206, BIG[:100])
    # The same object without the signature is refused: the bucket is private.
    assert requests.get(body["url"].split("?", 1)[0], timeout=10).status_code == 403
    assert DownloadGrant.objects.get().storage_key == dataset_file.file.name


def test_register_an_object_uploaded_with_a_multipart_client(world):
    bucket = world["bucket"]
    key = "datasets/5e1d0c9b8a7f6e5d4c3b2a1908f7e6d5/pool.bin"
    from boto3.s3.transfer import TransferConfig

    bucket.client().upload_fileobj(io.BytesIO(BIG), bucket.name, key,
                                   Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD))
    registered = dataset_file_register(actor=world["organiser"], dataset=world["dataset"], key=key,
                                       kind="unlabelled_pool")
    assert (registered.size, registered.sha256) == (len(BIG), hashlib.sha256(BIG).hexdigest())
    assert registered.file.name == key


def test_direct_upload_through_a_presigned_post_then_register(client, world):
    client.force_login(world["organiser"])
    ticket_url = reverse("admin:datasets_dataset_upload_ticket", args=[world["dataset"].pk])
    ticket = client.post(ticket_url, {"filename": "noisy test.zip"}).json()
    assert ticket["key"].startswith("datasets/") and ticket["key"].endswith("/noisy_test.zip")
    data = b"PK\x05\x06" + b"\x00" * 18
    stored = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("noisy test.zip", data)},
                           timeout=30)
    assert stored.status_code == 204
    response = client.post(reverse("admin:datasets_dataset_register_file", args=[world["dataset"].pk]),
                           {"key": ticket["key"], "name": "noisy-test.zip", "kind": "noisy_test_inputs"})
    assert response.status_code == 302
    registered = DatasetFile.objects.get(name="noisy-test.zip")
    assert (registered.size, registered.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    change = client.get(reverse("admin:datasets_dataset_change", args=[world["dataset"].pk]))
    assert "Upload a large file" in change.text
    assert client.get(reverse("admin:datasets_dataset_direct_upload", args=[world["dataset"].pk])).status_code == 200


def test_upload_ticket_is_a_presigned_post_for_a_fresh_private_key(world):
    first = dataset_file_upload_ticket(actor=world["organiser"], dataset=world["dataset"], filename="a.zip")
    second = dataset_file_upload_ticket(actor=world["organiser"], dataset=world["dataset"], filename="a.zip")
    assert first.key != second.key
    assert first.url == f"{world['bucket'].endpoint_url}/{world['bucket'].name}"
    assert first.fields["key"] == first.key
    assert "policy" in first.fields


def test_agreements_and_references_stay_private_in_the_bucket(world):
    bucket = world["bucket"]
    LicenceAcceptance.objects.all().delete()
    LicenceAcceptance.objects.create(team=world["team"], licence=world["licence"], accepted_by=world["member"],
                                     full_name="M", affiliation="Lab", accepted_on=timezone.localdate())
    acceptance = licence_agreement_upload(user=world["member"], challenge=world["challenge"],
                                          upload=SimpleUploadedFile("s.pdf", b"%PDF-1.7\nsigned\n"))
    phase = PhaseFactory(track__challenge=world["challenge"])
    for key in (acceptance.signed_agreement.name, phase.reference_public.name, phase.reference_private.name):
        assert bucket.client().head_object(Bucket=bucket.name, Key=key)["ContentLength"] > 0
        assert requests.get(bucket.unsigned_url(key), timeout=10).status_code == 403, key
