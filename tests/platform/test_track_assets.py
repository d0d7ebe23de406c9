"""A track's asset files (the emotion-wheel sheets of the ov-wheel scorer) are checked with the scorer when
they are saved in the admin: a broken or incomplete set is refused with the scorer's own words."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arena.challenges.models import TrackAsset
from tests.platform.factories import ChallengeFactory, TrackFactory, UserFactory
from tests.platform.test_scorer_options_form import _post_data

pytestmark = pytest.mark.django_db

WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
NAMES = ["format.csv", "synonym.csv", *(f"wheel{n}.csv" for n in range(1, 6))]


def _post(client, track, files: dict[str, bytes]):
    url = reverse("admin:challenges_track_change", args=[track.pk])
    data = _post_data(client.get(url))
    data["assets-TOTAL_FORMS"] = str(len(files))
    for row, (name, content) in enumerate(files.items()):
        data[f"assets-{row}-path"] = name
        data[f"assets-{row}-file"] = SimpleUploadedFile(name, content)
    return client.post(url, data)


@pytest.fixture
def track(client):
    organiser = UserFactory(is_staff=True)
    client.force_login(organiser)
    return TrackFactory(challenge=ChallengeFactory(organisers=[organiser]), scorer_key="mer.ov-wheel",
                        scorer_options={"level": "level1"})


def test_a_complete_wheel_set_is_saved(client, track):
    response = _post(client, track, {name: (WHEELS / name).read_bytes() for name in NAMES})
    assert response.status_code == 302
    assert sorted(TrackAsset.objects.filter(track=track).values_list("path", flat=True)) == sorted(NAMES)


@pytest.mark.parametrize("broken", ["missing", "garbage"])
def test_an_incomplete_or_broken_set_is_refused_in_the_scorer_s_words_and_nothing_is_saved(client, track, broken):
    files = {name: (WHEELS / name).read_bytes() for name in NAMES}
    if broken == "missing":
        del files["wheel3.csv"]
    else:
        files["wheel3.csv"] = b"\x00\xff not a wheel at all"
    response = _post(client, track, files)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert len(errors) == 1
    assert errors[0].startswith("The scorer mer.ov-wheel cannot use these files: ")
    assert errors[0].endswith(". Upload the complete set at once.")
    assert "wheel3" in errors[0] and "/tmp" not in errors[0]
    assert not TrackAsset.objects.filter(track=track).exists()
