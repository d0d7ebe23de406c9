"""Dataset files on local storage: listing, logged signed downloads, registering stored keys, admin upload."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.datasets.services import dataset_file_download_link, dataset_file_register, dataset_file_upload_ticket
from arena.participation.models import LicenceAcceptance, ParticipationStatus
from tests.platform.factories import ChallengeFactory, LicenceFactory, PhaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TRAIN = b"name,label\n" + b"".join(b"s%d,happy\n" % i for i in range(2000))


def add_file(dataset, name, data, *, kind="train", hidden=False):
    return DatasetFile.objects.create(
        dataset=dataset, name=name, kind=kind, file=ContentFile(data, name=name), size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), hidden_from_participants=hidden,
    )


@pytest.fixture
def mer():
    """An auto-approved challenge with one approved team that accepted the licence."""
    organiser, member = UserFactory(username="org"), UserFactory(username="member")
    challenge = ChallengeFactory(slug="mer", title="MER", organisers=[organiser])
    licence = LicenceFactory(challenge=challenge)
    team = TeamFactory(challenge=challenge, name="Minds", members=[member])
    LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=member, full_name="M",
                                     affiliation="Lab", accepted_on=timezone.localdate())
    dataset = Dataset.objects.create(challenge=challenge, slug="mer-2026", title="MER 2026",
                                     description="Video clips and labels.")
    train = add_file(dataset, "train.csv", TRAIN)
    hidden = add_file(dataset, "test-inputs.tar", b"hidden inputs", kind="test_inputs", hidden=True)
    return {"organiser": organiser, "member": member, "challenge": challenge, "team": team,
            "dataset": dataset, "train": train, "hidden": hidden}


def link(world, who, dataset_file, **kwargs):
    return dataset_file_download_link(user=world[who], dataset_file_id=dataset_file.pk, ip_address="192.0.2.7",
                                      user_agent="curl/8.5", **kwargs)


def test_download_link_is_logged_short_lived_and_serves_the_checksummed_bytes(client, mer, settings):
    settings.ARENA_DOWNLOAD_URL_SECONDS = 90
    before = timezone.now()
    issued = link(mer, "member", mer["train"], channel="api")
    assert (issued.sha256, issued.size) == (hashlib.sha256(TRAIN).hexdigest(), len(TRAIN))
    assert timedelta(seconds=89) <= issued.expires_at - before <= timedelta(seconds=91)
    grant = DownloadGrant.objects.get()
    assert (grant.user, grant.team, grant.team_name, grant.dataset_file, grant.file_name) == (
        mer["member"], mer["team"], "Minds", mer["train"], "train.csv")
    assert (grant.ip_address, grant.user_agent, grant.channel, grant.challenge) == (
        "192.0.2.7", "curl/8.5", "api", mer["challenge"])
    assert grant.storage_key == mer["train"].file.name
    assert grant.expires_at == issued.expires_at
    response = client.get(issued.url)  # the link works without a session, like a presigned URL
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert hashlib.sha256(body).hexdigest() == issued.sha256


def test_bad_client_addresses_are_logged_as_unknown(mer):
    dataset_file_download_link(user=mer["member"], dataset_file_id=mer["train"].pk, ip_address="not-an-ip",
                               user_agent="x" * 1000)
    grant = DownloadGrant.objects.get()
    assert grant.ip_address is None
    assert len(grant.user_agent) == 300


def test_hidden_files_are_not_found_for_participants_and_served_to_organisers(mer):
    with pytest.raises(NotFound):
        link(mer, "member", mer["hidden"])
    assert not DownloadGrant.objects.exists()
    issued = link(mer, "organiser", mer["hidden"])
    grant = DownloadGrant.objects.get()
    assert (grant.user, grant.team, grant.team_name) == (mer["organiser"], None, "")
    assert issued.sha256 == hashlib.sha256(b"hidden inputs").hexdigest()


def test_unknown_or_foreign_ids_are_not_found(mer):
    with pytest.raises(NotFound):
        dataset_file_download_link(user=mer["member"], dataset_file_id=999999, ip_address=None, user_agent="")
    other = ChallengeFactory(slug="other")
    with pytest.raises(NotFound):  # a file id of another challenge through this challenge's page
        link(mer, "member", mer["train"], challenge=other)


def test_unpublished_challenge_files_are_not_found(mer):
    mer["challenge"].is_published = False
    mer["challenge"].save()
    with pytest.raises(NotFound):
        link(mer, "member", mer["train"])
    assert link(mer, "organiser", mer["train"]).size == len(TRAIN)


def test_revoked_team_gets_no_new_link(mer):
    mer["team"].participation.status = ParticipationStatus.REVOKED
    mer["team"].participation.save()
    with pytest.raises(PermissionDenied) as exc:
        link(mer, "member", mer["train"])
    assert exc.value.code == "participation_revoked"
    assert not DownloadGrant.objects.exists()


def test_dataset_page_lists_sizes_checksums_and_buttons(client, mer):
    url = reverse("dataset-list", args=["mer"])
    page = client.get(url)
    assert page.status_code == 200
    assert "train.csv" in page.text and "test-inputs.tar" not in page.text
    assert "22.4\xa0KB" in page.text and "22901 bytes" in page.text  # human size, exact in the title
    assert mer["train"].sha256 in page.text
    assert "Sign in</a> and join a team" in page.text
    assert "<button" not in page.text.split("<main", 1)[1].replace('<button class="link"', "")
    client.force_login(mer["member"])
    page = client.get(url)
    assert f'action="/c/mer/data/files/{mer["train"].pk}/download/"' in page.text
    assert "Team Minds may download the data" in page.text
    client.force_login(mer["organiser"])
    page = client.get(url)
    assert "test-inputs.tar" in page.text and "hidden from participants" in page.text


def test_download_button_redirects_to_a_working_link(client, mer):
    client.force_login(mer["member"])
    response = client.post(reverse("dataset-file-download", args=["mer", mer["train"].pk]),
                           headers={"User-Agent": "Firefox"}, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 303
    grant = DownloadGrant.objects.get()
    assert (grant.ip_address, grant.user_agent, grant.channel) == ("198.51.100.4", "Firefox", "web")
    body = b"".join(client.get(response["Location"]).streaming_content)
    assert body == TRAIN


def test_refused_download_explains_why(client, mer):
    stranger = UserFactory()
    client.force_login(stranger)
    response = client.post(reverse("dataset-file-download", args=["mer", mer["train"].pk]))
    assert response.status_code == 403
    assert "Join or create a team for &#x27;MER&#x27; before downloading." in response.text
    assert not DownloadGrant.objects.exists()


# --- registering objects already in storage ------------------------------------------------

@pytest.fixture
def stored_key():
    key = default_storage.save("datasets/9f8e7d6c5b4a39281706f5e4d3c2b1a0/big.bin", ContentFile(b"\x00\x01" * 50000))
    yield key
    default_storage.delete(key)


def test_register_records_size_and_digest(mer, stored_key):
    registered = dataset_file_register(actor=mer["organiser"], dataset=mer["dataset"], key=stored_key,
                                       kind="unlabelled_pool")
    assert (registered.name, registered.size, registered.file.name) == ("big.bin", 100000, stored_key)
    assert registered.sha256 == hashlib.sha256(b"\x00\x01" * 50000).hexdigest()
    entry = AuditEntry.objects.get(action="dataset_file.register")
    assert entry.details["sha256"] == registered.sha256


@pytest.mark.parametrize("key,code", [
    ("references/abc/private.csv", "invalid_key"),
    ("/datasets/abc/x.bin", "invalid_key"),
    ("datasets/../references/x.csv", "invalid_key"),
    ("datasets/abc/", "invalid_key"),
    ("datasets//x.bin", "invalid_key"),
    ("datasets/abc/not-there.bin", "no_such_object"),
])
def test_register_refuses_bad_or_missing_keys(mer, key, code):
    with pytest.raises(DomainError) as exc:
        dataset_file_register(actor=mer["organiser"], dataset=mer["dataset"], key=key, kind="train")
    assert exc.value.code == code
    assert DatasetFile.objects.count() == 2


def test_register_refuses_keys_other_records_use(mer, stored_key):
    with pytest.raises(Conflict) as exc:  # exposing an existing file under a second name
        dataset_file_register(actor=mer["organiser"], dataset=mer["dataset"], key=mer["hidden"].file.name,
                              name="not hidden", kind="train")
    assert exc.value.code == "key_in_use"
    with pytest.raises(Conflict) as exc:
        dataset_file_register(actor=mer["organiser"], dataset=mer["dataset"], key=stored_key, name="train.csv",
                              kind="train")
    assert exc.value.code == "name_taken"


def test_only_organisers_register_and_get_upload_tickets(mer, stored_key):
    other = UserFactory()
    ChallengeFactory(organisers=[other])
    for actor in (mer["member"], other):
        with pytest.raises(PermissionDenied):
            dataset_file_register(actor=actor, dataset=mer["dataset"], key=stored_key, kind="train")
        with pytest.raises(PermissionDenied):
            dataset_file_upload_ticket(actor=actor, dataset=mer["dataset"], filename="x.zip")
    with pytest.raises(DomainError) as exc:
        dataset_file_upload_ticket(actor=mer["organiser"], dataset=mer["dataset"], filename="x.zip")
    assert exc.value.code == "direct_upload_unavailable"  # local storage: upload in the admin form


def test_admin_register_form(client, mer, stored_key):
    client.force_login(mer["organiser"])
    url = reverse("admin:datasets_dataset_register_file", args=[mer["dataset"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"key": "datasets/nope/x.bin", "kind": "train"})
    assert response.status_code == 400
    assert "Nothing is stored under" in response.text
    response = client.post(url, {"key": stored_key, "name": "pool.bin", "kind": "unlabelled_pool"})
    assert response.status_code == 302
    assert DatasetFile.objects.get(name="pool.bin").size == 100000
    change = client.get(reverse("admin:datasets_dataset_change", args=[mer["dataset"].pk]))
    assert "Register a stored file" in change.text
    assert "Upload a large file" not in change.text  # local storage


def test_admin_inline_upload_records_size_and_digest(client, mer):
    client.force_login(mer["organiser"])
    dataset, train, hidden = mer["dataset"], mer["train"], mer["hidden"]
    data = {
        "challenge": mer["challenge"].pk, "slug": dataset.slug, "title": dataset.title,
        "description": dataset.description, "order": 0,
        "files-TOTAL_FORMS": 3, "files-INITIAL_FORMS": 2,
        "files-0-id": train.pk, "files-0-dataset": dataset.pk, "files-0-name": train.name, "files-0-kind": "train",
        "files-1-id": hidden.pk, "files-1-dataset": dataset.pk, "files-1-name": hidden.name,
        "files-1-kind": "test_inputs", "files-1-hidden_from_participants": "on",
        "files-2-dataset": dataset.pk, "files-2-name": "pool.csv", "files-2-kind": "unlabelled_pool",
        "files-2-file": SimpleUploadedFile("pool.csv", b"name\ns1\ns2\n"),
    }
    response = client.post(reverse("admin:datasets_dataset_change", args=[dataset.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    pool = DatasetFile.objects.get(name="pool.csv")
    assert (pool.size, pool.sha256) == (11, hashlib.sha256(b"name\ns1\ns2\n").hexdigest())
    assert pool.file.name.startswith("datasets/") and len(pool.file.name.split("/")[1]) == 32


def test_download_log_admin_is_read_only_and_scoped(client, mer):
    link(mer, "member", mer["train"])
    other = UserFactory()
    ChallengeFactory(organisers=[other])
    client.force_login(other)
    response = client.get(reverse("admin:datasets_downloadgrant_changelist"))
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    client.force_login(mer["organiser"])
    response = client.get(reverse("admin:datasets_downloadgrant_changelist"))
    assert response.context["cl"].result_count == 1
    grant = DownloadGrant.objects.get()
    client.post(reverse("admin:datasets_downloadgrant_delete", args=[grant.pk]), {"post": "yes"})
    assert DownloadGrant.objects.count() == 1


def test_phase_references_are_never_dataset_files(mer):
    phase = PhaseFactory(track__challenge=mer["challenge"])
    with pytest.raises(DomainError):  # not under datasets/, and used by the phase
        dataset_file_register(actor=mer["organiser"], dataset=mer["dataset"], key=phase.reference_private.name,
                              kind="other")
    assert not DatasetFile.objects.filter(file=phase.reference_private.name).exists()
