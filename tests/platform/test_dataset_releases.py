"""Scheduled releases: before its ``release_at`` a file does not exist for participants, anywhere."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from arena.audit.models import AuditEntry
from arena.core.errors import NotFound
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.datasets.services import dataset_file_download_link
from tests.platform.clock import clock  # noqa: F401
from tests.platform.factories import ChallengeFactory, LicenceFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

NO_SUCH_FILE = {"code": "not_found", "message": "No such dataset file.", "details": {}}


def _file(dataset, name, data, **fields):
    return DatasetFile.objects.create(dataset=dataset, name=name, kind="train", file=ContentFile(data, name=name),
                                      size=len(data), sha256=hashlib.sha256(data).hexdigest(), **fields)


@pytest.fixture
def abaw(clock):  # noqa: F811
    """An approved team, a file released now and one released in two hours, in a dataset of their own."""
    organiser, member = UserFactory(username="org"), UserFactory(username="member")
    challenge = ChallengeFactory(slug="abaw", organisers=[organiser])
    LicenceFactory(challenge=challenge)
    ready_team(challenge=challenge, members=[member])
    dataset = Dataset.objects.create(challenge=challenge, slug="aff-wild2", title="Aff-Wild2")
    train = _file(dataset, "train.csv", b"name,label\nv1,0\n", release_at=clock.now() - timedelta(days=1))
    later = Dataset.objects.create(challenge=challenge, slug="test-set", title="Test set", order=1)
    test = _file(later, "test-inputs.zip", b"test inputs", release_at=clock.now() + timedelta(hours=2))
    return {"organiser": organiser, "member": member, "challenge": challenge, "train": train, "test": test}


def _listed(client) -> list[str]:
    response = client.get("/api/v1/challenges/abaw/datasets")
    assert response.status_code == 200
    return [f["name"] for d in response.json() for f in d["files"]]


def _absent_id() -> int:
    return DatasetFile.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000


def test_before_its_release_a_file_is_nowhere_for_participants(client, abaw):
    client.force_login(abaw["member"])
    page = client.get(reverse("dataset-list", args=["abaw"]))
    assert page.status_code == 200
    assert "train.csv" in page.text
    assert "test-inputs.zip" not in page.text and "Test set" not in page.text
    assert _listed(client) == ["train.csv"]

    unreleased = client.post(f"/api/v1/dataset-files/{abaw['test'].pk}/download-url")
    absent = client.post(f"/api/v1/dataset-files/{_absent_id()}/download-url")
    assert (unreleased.status_code, unreleased.json()) == (absent.status_code, absent.json()) == (404, NO_SUCH_FILE)

    web = client.post(reverse("dataset-file-download", args=["abaw", abaw["test"].pk]))
    web_absent = client.post(reverse("dataset-file-download", args=["abaw", _absent_id()]))
    assert web.status_code == web_absent.status_code == 404
    assert "No such dataset file." in web.text and "test-inputs.zip" not in web.text
    with pytest.raises(NotFound, match="No such dataset file."):
        dataset_file_download_link(user=abaw["member"], dataset_file_id=abaw["test"].pk, ip_address=None,
                                   user_agent="")
    assert not DownloadGrant.objects.exists()


def test_anonymous_visitors_do_not_see_it_either(client, abaw):
    assert _listed(client) == ["train.csv"]
    assert "test-inputs.zip" not in client.get(reverse("dataset-list", args=["abaw"])).text


def test_once_the_time_has_passed_the_file_appears_by_itself(client, abaw, clock):  # noqa: F811
    client.force_login(abaw["member"])
    clock.advance(hours=2)  # exactly at release_at: released
    assert _listed(client) == ["train.csv", "test-inputs.zip"]
    page = client.get(reverse("dataset-list", args=["abaw"]))
    assert "test-inputs.zip" in page.text and "not yet released" not in page.text
    response = client.post(f"/api/v1/dataset-files/{abaw['test'].pk}/download-url")
    assert response.status_code == 200
    assert response.json()["sha256"] == hashlib.sha256(b"test inputs").hexdigest()
    web = client.post(reverse("dataset-file-download", args=["abaw", abaw["test"].pk]))
    assert web.status_code == 303
    assert list(DownloadGrant.objects.values_list("file_name", "user__username")) == [
        ("test-inputs.zip", "member"), ("test-inputs.zip", "member")]


def test_organisers_see_and_fetch_it_before_its_release(client, abaw):
    client.force_login(abaw["organiser"])
    assert _listed(client) == ["train.csv", "test-inputs.zip"]
    page = client.get(reverse("dataset-list", args=["abaw"]))
    assert "test-inputs.zip" in page.text and "not yet released" in page.text
    response = client.post(f"/api/v1/dataset-files/{abaw['test'].pk}/download-url")
    assert response.status_code == 200
    assert DownloadGrant.objects.get().user == abaw["organiser"]


def test_the_admin_marks_each_file_released_or_not(client, abaw, clock):  # noqa: F811
    client.force_login(abaw["organiser"])
    url = reverse("admin:datasets_dataset_change", args=[abaw["test"].dataset.pk])
    assert "not yet released" in client.get(url).text
    clock.advance(hours=3)
    released = f"released {abaw['test'].release_at:%Y-%m-%d %H:%M} UTC"
    assert released in client.get(url).text
    train_url = reverse("admin:datasets_dataset_change", args=[abaw["train"].dataset.pk])
    assert f"released {abaw['train'].release_at:%Y-%m-%d %H:%M} UTC" in client.get(train_url).text


def test_a_stored_file_is_registered_with_its_release_time(client, abaw, clock):  # noqa: F811
    key = default_storage.save("datasets/7d1e0c4b9a8f6e5d3c2b1a0f9e8d7c6b/late.zip", ContentFile(b"late inputs"))
    release_at = clock.now().replace(second=0, microsecond=0) + timedelta(days=1)
    client.force_login(abaw["organiser"])
    response = client.post(reverse("admin:datasets_dataset_register_file", args=[abaw["train"].dataset.pk]),
                           {"key": key, "name": "late.zip", "kind": "test_inputs",
                            "release_at": f"{release_at:%Y-%m-%d %H:%M}"})
    assert response.status_code == 302
    registered = DatasetFile.objects.get(name="late.zip")
    assert registered.release_at == release_at
    assert AuditEntry.objects.get(action="dataset_file.register").details["release_at"] == release_at.isoformat()
    client.force_login(abaw["member"])
    assert _listed(client) == ["train.csv"]
    clock.advance(days=1)
    assert _listed(client) == ["late.zip", "train.csv", "test-inputs.zip"]


@pytest.mark.parametrize("role,sees,link_status", [
    ("anonymous", False, None), ("no_team", False, 404), ("member", False, 404),
    ("other_organiser", False, 404), ("organiser", True, 200),
])
def test_who_sees_an_unreleased_file(client, abaw, role, sees, link_status):
    users = {"no_team": UserFactory(), "member": abaw["member"], "organiser": abaw["organiser"],
             "other_organiser": UserFactory()}
    ChallengeFactory(slug="other", organisers=[users["other_organiser"]])
    if role != "anonymous":
        client.force_login(users[role])
    assert ("test-inputs.zip" in _listed(client)) is sees
    assert ("test-inputs.zip" in client.get(reverse("dataset-list", args=["abaw"])).text) is sees
    response = client.post(f"/api/v1/dataset-files/{abaw['test'].pk}/download-url")
    if link_status is None:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == link_status
        if link_status == 404:
            assert response.json() == NO_SUCH_FILE
    assert DownloadGrant.objects.count() == (1 if sees else 0)
