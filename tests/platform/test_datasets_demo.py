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
