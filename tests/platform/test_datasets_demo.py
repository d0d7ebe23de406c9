"""The demo challenges gate their data: MER-style auto-approves, ABAW-style needs approval and a signed agreement."""

import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from arena.challenges.models import Challenge
from arena.datasets.models import DatasetFile
from arena.demo.services import demo_load
from arena.participation.selectors import data_access
from arena.participation.services import licence_accept
from arena.teams.services import team_create
from tests.platform.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    demo_load(with_submissions=False)


def test_demo_challenges_are_gated(demo):
    mer, abaw = Challenge.objects.get(slug="mer-style"), Challenge.objects.get(slug="abaw-style")
    assert (mer.requires_approval, mer.requires_signed_agreement) == (False, False)
    assert (abaw.requires_approval, abaw.requires_signed_agreement) == (True, True)
    newcomer = UserFactory()
    for challenge in (mer, abaw):
        assert data_access(newcomer, challenge).refusal.code == "not_in_team"
        team_create(user=newcomer, challenge=challenge, name="Newcomers")
        assert data_access(newcomer, challenge).refusal.code == "licence_not_accepted"
        licence_accept(user=newcomer, challenge=challenge, full_name="New Comer", affiliation="Lab",
                       accepted_on=timezone.localdate())
    assert data_access(newcomer, mer).can_download  # auto-approved at team creation
    assert data_access(newcomer, abaw).refusal.code == "agreement_missing"


def test_a_demo_participant_downloads_and_verifies_a_file(demo, settings):
    client = Client()
    assert client.login(username="alice", password=settings.ARENA_DEMO_PASSWORD)
    dataset_file = DatasetFile.objects.filter(dataset__challenge__slug="mer-style").order_by("pk").first()
    response = client.post(f"/api/v1/dataset-files/{dataset_file.pk}/download-url")
    assert response.status_code == 200
    body = response.json()
    fetched = client.get(body["url"].removeprefix("http://testserver"))
    assert hashlib.sha256(b"".join(fetched.streaming_content)).hexdigest() == body["sha256"] == dataset_file.sha256
    for path in ("/c/mer-style/data/", "/c/abaw-style/data/", "/c/mer-style/licence/", "/c/abaw-style/licence/"):
        assert client.get(path).status_code == 200, path


def test_abaw_demo_shows_one_team_that_may_download_and_one_that_may_not_yet(demo):
    from arena.accounts.models import User

    abaw = Challenge.objects.get(slug="abaw-style")
    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
    assert data_access(alice, abaw).can_download
    assert data_access(bob, abaw).refusal.code == "agreement_missing"


def _download(client, dataset_file):
    return client.post(f"/api/v1/dataset-files/{dataset_file.pk}/download-url")


def _abaw_file(dataset_slug):
    return DatasetFile.objects.filter(dataset__challenge__slug="abaw-style", dataset__slug=dataset_slug).order_by(
        "pk").first()


def test_a_demo_team_downloads_aff_wild_files_but_not_mimicry_files_without_their_licence(demo, settings):
    from arena.datasets.models import DownloadGrant

    client = Client()
    assert client.login(username="alice", password=settings.ARENA_DEMO_PASSWORD)
    aff_wild, mimicry, ambivalence = _abaw_file("aff-wild-demo"), _abaw_file("mimicry-demo"), \
        _abaw_file("ambivalence-demo")
    assert _download(client, aff_wild).status_code == 200  # its own licence accepted and signed
    assert _download(client, ambivalence).status_code == 200  # no licence of its own
    grants = DownloadGrant.objects.count()
    refused = _download(client, mimicry)
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "dataset_licence_not_accepted"
    assert refused.json()["message"] == (
        "'Emotional mimicry intensities' has its own licence: accept it for your team on its licence page "
        "before downloading its files.")
    assert DownloadGrant.objects.count() == grants
    # The mimicry licence's page says what is missing.
    status = client.get("/api/v1/challenges/abaw-style/datasets/mimicry-demo/licence").json()
    assert status["licence"]["title"] == "Mimicry-style demo licence" and status["licence"]["version"] == 1
    assert status["missing"]["code"] == "dataset_licence_not_accepted"
    aff_status = client.get("/api/v1/challenges/abaw-style/datasets/aff-wild-demo/licence").json()
    assert aff_status["missing"] is None and aff_status["can_download"] is True


def test_accepting_the_mimicry_licence_opens_its_files(demo, settings):
    client = Client()
    assert client.login(username="alice", password=settings.ARENA_DEMO_PASSWORD)
    accepted = client.post("/api/v1/challenges/abaw-style/datasets/mimicry-demo/licence/accept",
                           {"full_name": "Alice Demo", "affiliation": "AffectArena demo"},
                           content_type="application/json")
    assert accepted.status_code == 201, accepted.content
    assert _download(client, _abaw_file("mimicry-demo")).status_code == 200  # no signature, no approval


def test_the_organiser_downloads_every_demo_dataset(demo, settings):
    client = Client()
    assert client.login(username="abaw-organiser", password=settings.ARENA_DEMO_PASSWORD)
    for slug in ("aff-wild-demo", "mimicry-demo", "ambivalence-demo"):
        assert _download(client, _abaw_file(slug)).status_code == 200, slug


def test_a_team_without_the_signed_challenge_agreement_is_refused_before_the_dataset_licences(demo, settings):
    client = Client()
    assert client.login(username="bob", password=settings.ARENA_DEMO_PASSWORD)
    for slug in ("aff-wild-demo", "mimicry-demo"):
        response = _download(client, _abaw_file(slug))
        assert response.status_code == 403
        assert response.json()["code"] == "agreement_missing", slug
