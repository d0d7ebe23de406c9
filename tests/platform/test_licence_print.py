"""The printable licence (the "print and sign" step of a signed agreement), for the challenge licence and
a dataset's own licence."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from arena.challenges.models import Licence
from arena.datasets.models import Dataset
from tests.platform.factories import ChallengeFactory, LicenceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

LICENCE_TEXT = "## Terms\n\n1. Research use only.\n2. No redistribution.\n"


@pytest.fixture
def world():
    organiser, participant = UserFactory(username="orga"), UserFactory(username="parti")
    challenge = ChallengeFactory(slug="mer", title="MER 2026", organisers=[organiser],
                                 requires_signed_agreement=True)
    LicenceFactory(challenge=challenge, version=1, title="MER EULA", text="Old terms.")
    LicenceFactory(challenge=challenge, version=2, title="MER EULA", text=LICENCE_TEXT)
    dataset = Dataset.objects.create(challenge=challenge, slug="wild", title="Wild clips")
    Licence.objects.create(challenge=challenge, dataset=dataset, version=3, title="Wild clips licence",
                           text="Clips: **no faces** in papers.", requires_signed_agreement=True)
    Dataset.objects.create(challenge=challenge, slug="plain", title="Plain")
    draft = ChallengeFactory(slug="draft", organisers=[organiser], is_published=False)
    LicenceFactory(challenge=draft, title="Draft EULA")
    TeamFactory(challenge=challenge, name="Minds", members=[participant])
    return {"organiser": organiser, "participant": participant, "outsider": UserFactory(username="outsider")}


def test_the_print_page_has_the_rendered_licence_its_version_and_lines_to_sign(client, world):
    client.force_login(world["participant"])
    page = client.get(reverse("licence-print", args=["mer"]))
    assert page.status_code == 200
    text = page.text
    assert '<h1 id="licence-print-h">MER EULA</h1>' in text
    assert "version 2, published" in text and "Old terms" not in text
    assert "<h2>Terms</h2>\n<ol>\n<li>Research use only.</li>\n<li>No redistribution.</li>\n</ol>" in text
    assert "I accept version 2 of this licence for team Minds." in text
    for line in ("Name", "Affiliation", "Signature", "Date"):
        assert f"<dt>{line}</dt><dd></dd>" in text
    assert "<dt>Team</dt><dd>Minds</dd>" in text


def test_a_dataset_licence_has_its_own_print_page(client, world):
    text = client.get(reverse("dataset-licence-print", args=["mer", "wild"])).text
    assert '<h1 id="licence-print-h">Wild clips licence</h1>' in text
    assert "dataset Wild clips" in text and "version 3, published" in text
    assert "Clips: <strong>no faces</strong> in papers." in text
    assert "<dt>Team</dt><dd></dd>" in text  # anonymous: the team is written in by hand
    # A dataset without a licence of its own, and an unknown dataset, have none to print.
    assert client.get(reverse("dataset-licence-print", args=["mer", "plain"])).status_code == 404
    assert client.get(reverse("dataset-licence-print", args=["mer", "nope"])).status_code == 404


@pytest.mark.parametrize("who, published, draft", [
    ("anonymous", 200, 404),
    ("outsider", 200, 404),
    ("participant", 200, 404),
    ("organiser", 200, 200),
])
def test_the_print_page_is_open_to_whoever_can_see_the_challenge(client, world, who, published, draft):
    if who != "anonymous":
        client.force_login(world[who])
    assert client.get(reverse("licence-print", args=["mer"])).status_code == published
    assert client.get(reverse("dataset-licence-print", args=["mer", "wild"])).status_code == published
    assert client.get(reverse("licence-print", args=["draft"])).status_code == draft


def test_the_licence_pages_link_to_the_print_page(client, world):
    client.force_login(world["participant"])
    challenge_page = client.get(reverse("licence-page", args=["mer"])).text
    assert f'href="{reverse("licence-print", args=["mer"])}"' in challenge_page
    dataset_page = client.get(reverse("dataset-licence-page", args=["mer", "wild"])).text
    assert f'href="{reverse("dataset-licence-print", args=["mer", "wild"])}"' in dataset_page
    assert f'href="{reverse("licence-print", args=["mer"])}"' in client.get(reverse("challenge-detail",
                                                                                    args=["mer"])).text


def test_the_site_stylesheet_prints_without_the_site_chrome():
    css = (Path(settings.REPO_DIR) / "platform/arena/static/arena/site.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert ".site-header" in print_rules and ".site-footer" in print_rules and ".no-print" in print_rules
