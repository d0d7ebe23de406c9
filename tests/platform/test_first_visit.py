"""What a first visit showed: forms bound on GET, dangling aria ids, the favicon, offline API docs."""

import re

import pytest

from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def phase_page(client):
    user = UserFactory()
    phase = PhaseFactory(track__accepts_containers=True)
    ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    return client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/")


def test_the_submission_forms_show_no_errors_before_anything_is_posted(phase_page):
    assert phase_page.status_code == 200
    assert 'id="submit-form"' in phase_page.text and 'id="model-form"' in phase_page.text
    assert "This field is required" not in phase_page.text
    assert '<ul class="errorlist' not in phase_page.text


def test_every_aria_describedby_points_at_an_element_of_the_page(phase_page):
    ids = set(re.findall(r'\bid="([^"]+)"', phase_page.text))
    described = [ref for refs in re.findall(r'aria-describedby="([^"]+)"', phase_page.text) for ref in refs.split()]
    assert described, "the forms' help texts should be linked to their fields"
    assert [ref for ref in described if ref not in ids] == []


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response.redirect_chain[0][1] == 301


def test_the_api_reference_loads_swagger_from_the_site_itself(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any("swagger-ui" in s for s in sources), sources
    assert [s for s in sources if s.startswith(("http://", "https://", "//"))] == []
    assert client.get(next(s for s in sources if s.endswith("swagger-ui-bundle.js"))).status_code == 200


def test_the_track_page_states_scorer_options_in_words(client):
    phase = PhaseFactory(track__scorer_key="mer.discrete",
                         track__scorer_options={"labels": ["neutral", "happy", "sad"]})
    track = phase.track
    page = client.get(f"/c/{track.challenge.slug}/t/{track.slug}/")
    assert page.status_code == 200
    assert "<dd>neutral, happy, sad</dd>" in page.text
    assert "(&#x27;" not in page.text and "labels=" not in page.text and "=False" not in page.text


def test_scorers_list_gives_each_metric_its_direction():
    import subprocess
    import sys

    listing = subprocess.run([sys.executable, "-m", "scorers", "list"], capture_output=True, text=True, check=True)
    (line,) = [x for x in listing.stdout.splitlines() if "metrics:" in x and "mse" in x]
    assert "mse (lower is better)" in line and "waf (higher is better)" in line


def test_the_submission_endpoints_document_their_error_answers(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    post = schema["paths"]["/api/v1/phases/{phase_id}/submissions"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "415", "429"} <= set(post)
    error = post["429"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/ErrorOut")
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "details"}
