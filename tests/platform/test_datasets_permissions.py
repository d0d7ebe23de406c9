"""Who may do what with a challenge's data, over every dataset page, API endpoint and admin page.

Run on local storage and on the loopback S3 server. Every refused request is checked to have
changed nothing; every allowed download is fetched and checked against its sha256.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.settings import api_settings

from arena.audit.models import AuditEntry
from arena.challenges.models import TrackAsset
from arena.core.storage import SALT
from arena.datasets.models import Dataset, DatasetFile, DownloadGrant
from arena.participation.models import LicenceAcceptance, Participation, ParticipationStatus
from tests.platform.factories import ChallengeFactory, LicenceFactory, PhaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.5\nsigned by the lab head\n%%EOF\n"
TRAIN = b"name,valence,arousal\n" + b"".join(b"clip%03d,0.%d,0.%d\n" % (i, i % 10, (i * 7) % 10) for i in range(300))
HIDDEN = b"hidden test inputs of a container track"
ROLES = ("anonymous", "no_team", "not_accepted", "pending", "approved", "revoked", "other_team",
         "other_organiser", "organiser")
PARTICIPANTS = ("no_team", "not_accepted", "pending", "approved", "revoked", "other_team")


def _anonymous_api_status() -> int:
    """DRF answers 401 when the first authentication class names a scheme (tokens), else 403."""
    first = api_settings.DEFAULT_AUTHENTICATION_CLASSES[0]()
    return 401 if first.authenticate_header(None) else 403


ANON_API = _anonymous_api_status()


def _file(dataset, name, data, *, kind="train", hidden=False):
    return DatasetFile.objects.create(
        dataset=dataset, name=name, kind=kind, file=ContentFile(data, name=name), size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), hidden_from_participants=hidden,
    )


def _team(challenge, licence, user, status, *, accepted=True, agreement=True):
    team = TeamFactory(challenge=challenge, name=f"Team {user.username}", members=[user], participation=status)
    if accepted:
        LicenceAcceptance.objects.create(
            team=team, licence=licence, accepted_by=user, full_name=user.username.title(), affiliation="Lab",
            accepted_on=timezone.localdate(),
            signed_agreement=ContentFile(PDF, name="signed.pdf") if agreement else "",
            agreement_size=len(PDF) if agreement else 0,
            agreement_sha256=hashlib.sha256(PDF).hexdigest() if agreement else "",
        )
    return team


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def world(request):
    """An ABAW-style challenge A (approval + signed agreement) with one user per role, and challenge B."""
    storage = request.param
    if storage == "s3":
        request.getfixturevalue("s3_storage")
    users = {role: UserFactory(username=role.replace("_", "-")) for role in ROLES if role != "anonymous"}
    users["anonymous"] = None
    a = ChallengeFactory(slug="abaw-a", title="Challenge A", requires_approval=True,
                         requires_signed_agreement=True, organisers=[users["organiser"]])
    b = ChallengeFactory(slug="mer-b", title="Challenge B", organisers=[users["other_organiser"]])
    licence_a, licence_b = LicenceFactory(challenge=a), LicenceFactory(challenge=b)
    teams = {
        "not_accepted": _team(a, licence_a, users["not_accepted"], ParticipationStatus.PENDING, accepted=False),
        "pending": _team(a, licence_a, users["pending"], ParticipationStatus.PENDING),
        "approved": _team(a, licence_a, users["approved"], ParticipationStatus.APPROVED),
        "revoked": _team(a, licence_a, users["revoked"], ParticipationStatus.REVOKED),
        "other_team": _team(b, licence_b, users["other_team"], ParticipationStatus.APPROVED, agreement=False),
    }
    dataset = Dataset.objects.create(challenge=a, slug="aff-wild2", title="Aff-Wild2", description="Videos.")
    visible = _file(dataset, "train.csv", TRAIN)
    hidden = _file(dataset, "test-inputs.tar", HIDDEN, kind="test_inputs", hidden=True)
    b_file = _file(Dataset.objects.create(challenge=b, slug="mer", title="MER"), "mer-train.csv", b"b data")
    phase = PhaseFactory(track__challenge=a)
    asset = TrackAsset.objects.create(track=phase.track, path="wheel.csv",
                                      file=ContentFile(b"wheel,secret\n", name="wheel.csv"))
    unregistered = default_storage.save("datasets/4c2a6f0e9b8d7c5a3e1f0d9c8b7a6e5d/extra.bin",
                                        ContentFile(b"extra data"))
    DownloadGrant.objects.create(  # an earlier download by the approved team, for the log pages
        challenge=a, dataset_file=visible, file_name=visible.name, storage_key=visible.file.name,
        user=users["approved"], team=teams["approved"], team_name=teams["approved"].name,
        issued_at=timezone.now(), expires_at=timezone.now(), channel="web",
    )
    return World(storage=storage, users=users, a=a, b=b, teams=teams, dataset=dataset, visible=visible,
                 hidden=hidden, b_file=b_file, phase=phase, asset=asset, unregistered=unregistered)


@dataclass
class World:
    storage: str
    users: dict
    a: object
    b: object
    teams: dict
    dataset: Dataset
    visible: DatasetFile
    hidden: DatasetFile
    b_file: DatasetFile
    phase: object
    asset: TrackAsset
    unregistered: str

    def client(self, role: str) -> Client:
        client = Client()
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client

    def fetch(self, url: str) -> bytes:
        """Follow a signed link the way a browser or curl would (no session needed)."""
        if url.startswith("http://testserver"):
            url = url[len("http://testserver"):]
        if url.startswith("/"):
            response = Client().get(url)
            assert response.status_code == 200
            return b"".join(response.streaming_content)
        response = requests.get(url, timeout=30)
        assert response.status_code == 200
        return response.content

    def secrets(self) -> dict[str, str]:
        """Storage keys no participant may learn."""
        agreement = LicenceAcceptance.objects.get(team=self.teams["pending"]).signed_agreement.name
        return {"reference public": self.phase.reference_public.name,
                "reference private": self.phase.reference_private.name,
                "track asset": self.asset.file.name, "another team's agreement": agreement,
                "hidden file": self.hidden.file.name}


def snapshot() -> dict:
    return {
        "acceptances": sorted(LicenceAcceptance.objects.values_list(
            "id", "team_id", "licence_id", "full_name", "signed_agreement", "agreement_sha256")),
        "participations": sorted(Participation.objects.values_list("id", "status", "decision_reason")),
        "grants": DownloadGrant.objects.count(),
        "files": sorted(DatasetFile.objects.values_list("id", "name", "file", "sha256", "hidden_from_participants")),
        "audit": AuditEntry.objects.count(),
    }


def _cells(default, **overrides) -> dict[str, object]:
    return {role: overrides.get(role, default) for role in ROLES}


def _non_staff(status_for_staff: dict) -> dict:
    """Admin pages send anyone who is not staff to the admin login (302)."""
    return {**status_for_staff, "anonymous": 302, **{role: 302 for role in PARTICIPANTS}}


@dataclass
class Endpoint:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, object]
    data: Callable[[World], dict] = lambda w: {}
    #: Roles whose allowed request changes state; for every other role nothing may change.
    changes: tuple[str, ...] = ()
    check: Callable[[World, str, object, dict], None] | None = None
    api: bool = False
    #: The error code the API gives each refused role, where it says why.
    codes: dict[str, str] = field(default_factory=dict)


def _accept_data(w):
    return {"full_name": "Grace Hopper", "affiliation": "Navy Lab", "accepted_on": timezone.localdate().isoformat(),
            "confirm": "on"}


def _pdf_data(w):
    return {"file": SimpleUploadedFile("agreement.pdf", PDF + b"% new copy\n", content_type="application/pdf")}


def _check_download(w, role, response, before):
    assert DownloadGrant.objects.count() == before["grants"] + 1
    grant = DownloadGrant.objects.order_by("-id").first()
    assert grant.user == w.users[role]
    url = response["Location"] if response.status_code == 303 else response.json()["url"]
    body = w.fetch(url)
    assert hashlib.sha256(body).hexdigest() == grant.dataset_file.sha256


def _check_accept(w, role, response, before):
    assert len(snapshot()["acceptances"]) == len(before["acceptances"]) + 1
    assert LicenceAcceptance.objects.get(team=w.teams[role]).full_name == "Grace Hopper"


def _check_agreement(w, role, response, before):
    acceptance = LicenceAcceptance.objects.get(team=w.teams[role])
    assert acceptance.agreement_sha256 == hashlib.sha256(PDF + b"% new copy\n").hexdigest()


def _check_register(w, role, response, before):
    registered = DatasetFile.objects.get(file=w.unregistered)
    assert (registered.size, registered.sha256) == (10, hashlib.sha256(b"extra data").hexdigest())


def _check_revoke(w, role, response, before):
    assert Participation.objects.get(team=w.teams["approved"]).status == ParticipationStatus.REVOKED


def _check_agreement_link(w, role, response, before):
    """The organiser opens the team's signed agreement from the admin page."""
    links = re.findall(r'href="([^"]*signed-agreements[^"]*|/files/[^"]+)"', response.text)
    assert len(links) == 1
    assert w.fetch(links[0].replace("&amp;", "&")) == PDF


def _check_datasets_json(w, role, response, before):
    names = [f["name"] for d in response.json() for f in d["files"]]
    assert names == (["test-inputs.tar", "train.csv"] if role == "organiser" else ["train.csv"])


def _check_grant_log(w, role, response, before):
    assert response.context["cl"].result_count == (1 if role == "organiser" else 0)


def _check_list_page(w, role, response, before):
    text = response.text
    assert ("test-inputs.tar" in text) is (role == "organiser")
    assert (f"/data/files/{w.visible.pk}/download/" in text) is (role in ("approved", "organiser"))


DOWNLOADERS = {"approved": 303, "organiser": 303}
ENDPOINTS = [
    # --- pages -----------------------------------------------------------------------------
    Endpoint("data page", "get", lambda w: reverse("dataset-list", args=["abaw-a"]), _cells(200),
             check=_check_list_page),
    Endpoint("licence page", "get", lambda w: reverse("licence-page", args=["abaw-a"]), _cells(200, anonymous=302)),
    Endpoint("accept on the licence page", "post", lambda w: reverse("licence-page", args=["abaw-a"]),
             _cells(403, anonymous=302, not_accepted=302, pending=409, approved=409, revoked=409),
             data=_accept_data, changes=("not_accepted",), check=_check_accept),
    Endpoint("upload the signed agreement", "post", lambda w: reverse("licence-agreement", args=["abaw-a"]),
             _cells(403, anonymous=302, not_accepted=409, pending=302, approved=409),
             data=_pdf_data, changes=("pending",), check=_check_agreement),
    Endpoint("download button", "post",
             lambda w: reverse("dataset-file-download", args=["abaw-a", w.visible.pk]),
             _cells(403, anonymous=302, **DOWNLOADERS), changes=tuple(DOWNLOADERS), check=_check_download),
    Endpoint("download button, hidden file", "post",
             lambda w: reverse("dataset-file-download", args=["abaw-a", w.hidden.pk]),
             _cells(404, anonymous=302, organiser=303), changes=("organiser",), check=_check_download),
    Endpoint("download button, file of another challenge", "post",
             lambda w: reverse("dataset-file-download", args=["abaw-a", w.b_file.pk]),
             _cells(404, anonymous=302)),
    # --- API -------------------------------------------------------------------------------
    Endpoint("GET datasets", "get", lambda w: "/api/v1/challenges/abaw-a/datasets", _cells(200),
             check=_check_datasets_json, api=True),
    Endpoint("GET licence", "get", lambda w: "/api/v1/challenges/abaw-a/licence", _cells(200), api=True),
    Endpoint("POST licence/accept", "post", lambda w: "/api/v1/challenges/abaw-a/licence/accept",
             _cells(403, anonymous=ANON_API, not_accepted=201, pending=409, approved=409, revoked=409),
             data=_accept_data, changes=("not_accepted",), check=_check_accept, api=True),
    Endpoint("POST licence/agreement", "post", lambda w: "/api/v1/challenges/abaw-a/licence/agreement",
             _cells(403, anonymous=ANON_API, not_accepted=409, pending=201, approved=409),
             data=_pdf_data, changes=("pending",), check=_check_agreement, api=True),
    Endpoint("POST download-url", "post", lambda w: f"/api/v1/dataset-files/{w.visible.pk}/download-url",
             _cells(403, anonymous=ANON_API, approved=200, organiser=200), changes=("approved", "organiser"),
             check=_check_download, api=True, codes={
                 "anonymous": "not_authenticated", "no_team": "not_in_team",
                 "not_accepted": "licence_not_accepted", "pending": "approval_pending",
                 "revoked": "participation_revoked", "other_team": "not_in_team",
                 "other_organiser": "not_in_team"}),
    Endpoint("POST download-url, hidden file", "post",
             lambda w: f"/api/v1/dataset-files/{w.hidden.pk}/download-url",
             _cells(404, anonymous=ANON_API, organiser=200), changes=("organiser",), check=_check_download,
             api=True),
    # --- organiser admin -------------------------------------------------------------------
    Endpoint("admin: dataset", "get", lambda w: reverse("admin:datasets_dataset_change", args=[w.dataset.pk]),
             _non_staff({"other_organiser": 302, "organiser": 200})),
    Endpoint("admin: register form", "get",
             lambda w: reverse("admin:datasets_dataset_register_file", args=[w.dataset.pk]),
             _non_staff({"other_organiser": 404, "organiser": 200})),
    Endpoint("admin: register a stored key", "post",
             lambda w: reverse("admin:datasets_dataset_register_file", args=[w.dataset.pk]),
             _non_staff({"other_organiser": 404, "organiser": 302}),
             data=lambda w: {"key": w.unregistered, "name": "extra.bin", "kind": "other"},
             changes=("organiser",), check=_check_register),
    Endpoint("admin: direct-upload ticket", "post",
             lambda w: reverse("admin:datasets_dataset_upload_ticket", args=[w.dataset.pk]),
             _non_staff({"other_organiser": 404, "organiser": "ticket"}), data=lambda w: {"filename": "x.zip"}),
    Endpoint("admin: download log", "get", lambda w: reverse("admin:datasets_downloadgrant_changelist"),
             _non_staff({"other_organiser": 200, "organiser": 200}), check=_check_grant_log),
    Endpoint("admin: revoke action", "post", lambda w: reverse("admin:participation_participation_changelist"),
             _non_staff({"other_organiser": 302, "organiser": 302}),
             data=lambda w: {"action": "revoke", "reason": "Shared the data",
                             "_selected_action": [str(w.teams["approved"].participation.pk)]},
             changes=("organiser",), check=_check_revoke),
    Endpoint("admin: licence acceptance", "get",
             lambda w: reverse("admin:participation_licenceacceptance_change",
                               args=[LicenceAcceptance.objects.get(team=w.teams["pending"]).pk]),
             _non_staff({"other_organiser": 302, "organiser": 200}), check=_check_agreement_link),
]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role):
    client = world.client(role)
    failures = []
    for endpoint in ENDPOINTS:
        expected = endpoint.expected[role]
        if expected == "ticket":  # direct uploads exist only with S3
            expected = 200 if world.storage == "s3" else 400
        with transaction.atomic():
            before = snapshot()
            response = getattr(client, endpoint.method)(endpoint.url(world), endpoint.data(world))
            if response.status_code != expected:
                failures.append(f"{endpoint.name}: {response.status_code}, expected {expected}")
            elif role in endpoint.changes:
                if endpoint.check:
                    endpoint.check(world, role, response, before)
            else:
                assert snapshot() == before, f"{endpoint.name} changed something for {role}"
                if endpoint.check and expected == 200:
                    endpoint.check(world, role, response, before)
            if endpoint.api and response.status_code >= 400:
                body = response.json()
                assert set(body) == {"code", "message", "details"}, endpoint.name
                if role in endpoint.codes:
                    assert body["code"] == endpoint.codes[role], (endpoint.name, body)
            transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


def test_other_team_downloads_its_own_challenges_data(world):
    client = world.client("other_team")
    response = client.post(f"/api/v1/dataset-files/{world.b_file.pk}/download-url")
    assert response.status_code == 200
    assert world.fetch(response.json()["url"]) == b"b data"


# --- nothing private is reachable ---------------------------------------------------------

_HREF = re.compile(r'href="(/[^"#]*)"')
_TOKEN = re.compile(r'(?:"|testserver)/files/([^/"?]+)/')


def _crawl(client, start: list[str], limit: int = 80) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith(("/admin/", "/accounts/logout", "/files/", "/static/")):
            continue
        response = client.get(path)
        body = (b"".join(response.streaming_content) if response.streaming else response.content)
        text = body.decode("utf-8", "replace")
        seen[path] = text
        queue.extend(link for link in _HREF.findall(text) if link not in seen)
    return seen


@pytest.mark.parametrize("role", ["anonymous", "pending", "approved", "other_organiser"])
def test_no_page_or_api_response_reveals_private_keys(world, role):
    client = world.client(role)
    pages = _crawl(client, ["/", "/c/abaw-a/", "/c/abaw-a/data/", "/c/abaw-a/licence/", "/c/abaw-a/team/",
                            f"/c/abaw-a/t/{world.phase.track.slug}/",
                            "/api/v1/challenges/abaw-a/datasets", "/api/v1/challenges/abaw-a/licence"])
    assert "/c/abaw-a/data/" in pages and len(pages) > 5
    if role == "approved":
        response = client.post(f"/api/v1/dataset-files/{world.visible.pk}/download-url")
        pages["download-url"] = response.content.decode()
    secrets = world.secrets()
    for path, text in pages.items():
        for what, key in secrets.items():
            assert key not in text, f"{what} key shown on {path}"
            assert key.split("/")[1] not in text, f"random part of the {what} key shown on {path}"
        for token in _TOKEN.findall(text):  # any signed link on a page must be for a dataset file
            key = signing.loads(token, salt=SALT)["k"]
            assert key not in secrets.values(), f"signed link to a private file on {path}"


@pytest.mark.parametrize("role", ["approved", "pending", "other_organiser"])
def test_guessed_keys_and_ids_reach_nothing(world, role):
    client = world.client(role)
    for what, key in world.secrets().items():
        for path in (f"/media/{key}", f"/{key}", f"/files/{key}/", f"/files/{key.split('/')[1]}/"):
            response = client.get(path)
            assert response.status_code == 404, (what, path)
        if world.storage == "s3":  # the bucket is private: the key alone fetches nothing
            url = f"{default_storage.endpoint_url}/{default_storage.bucket_name}/{key}"
            assert requests.get(url, timeout=10).status_code == 403, what
    ids = list(DatasetFile.objects.values_list("pk", flat=True))
    ids.append(max(ids) + 1)
    allowed = {"approved": world.visible.pk, "other_organiser": world.b_file.pk}.get(role)
    for file_id in ids:
        response = client.post(f"/api/v1/dataset-files/{file_id}/download-url")
        if file_id == allowed:
            assert response.status_code == 200
        else:
            assert response.status_code in (403, 404), file_id
            assert "url" not in response.json()
