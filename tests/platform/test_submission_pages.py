"""Submitting from the browser pages (the form, and the JSON answer the progress-bar script reads)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from arena.submissions.models import Submission
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


@pytest.fixture
def setup(client):
    user = UserFactory()
    phase = PhaseFactory()
    ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    url = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"
    return client, url, phase


def test_phase_page_shows_the_form_and_the_format(setup):
    client, url, _ = setup
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="submit-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert "upload-bar" in page.text and "name,discrete" in page.text and "data-upload" in page.text
    assert '<span class="badge open">Open until' in page.text


def test_form_upload_redirects_to_the_submission(setup):
    client, url, _ = setup
    response = client.post(url, {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": "Form run"})
    sub = Submission.objects.get()
    assert response.status_code == 302 and response.url == f"/submissions/{sub.pk}/"
    detail = client.get(response.url)
    assert "Form run" in detail.text and 'data-status="queued"' in detail.text


def test_json_upload_answers_for_the_progress_script(setup):
    client, url, _ = setup
    ok = client.post(url, {"file": SimpleUploadedFile("p.csv", GOOD), "method_name": "XHR"},
                     HTTP_ACCEPT="application/json")
    assert ok.status_code == 201 and ok.json()["redirect"] == f"/submissions/{ok.json()['id']}/"
    bad = client.post(url, {"file": SimpleUploadedFile("p.csv", b"name,discrete\ns1,elated\n"), "method_name": "XHR"},
                      HTTP_ACCEPT="application/json")
    assert bad.status_code == 422
    assert "line 2" in bad.json()["message"] and "elated" in bad.json()["message"]
    assert Submission.objects.count() == 1


def test_form_errors_are_shown_next_to_the_form(setup):
    client, url, _ = setup
    response = client.post(url, {"file": SimpleUploadedFile("p.csv", b"name,discrete\ns1,elated\n"),
                                 "method_name": "x"})
    assert response.status_code == 422 and "elated" in response.text
    assert client.post(url, {"method_name": "no file"}).status_code == 400
    assert not Submission.objects.exists()


def test_model_form_on_a_container_track(client, tmp_path):
    from tests.sandboxes.archive_factory import write_archive

    user = UserFactory()
    phase = PhaseFactory(track__accepts_containers=True, track__image_allowlist="ghcr.io/lab")
    ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    url = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"
    page = client.get(url)
    assert 'id="model-form"' in page.text and "/output/predictions.csv" in page.text
    archive = write_archive(tmp_path / "model.tar").read_bytes()
    response = client.post(url, {"kind": "container", "model-image_archive": SimpleUploadedFile(
        "model.tar", archive), "model-method_name": "CNN"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    refused = client.post(url, {"kind": "container", "model-image_reference": "docker.io/x/y:1",
                                "model-method_name": "CNN"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 403 and "cannot be pulled here" in refused.json()["message"]
    assert list(Submission.objects.values_list("kind", "method_name")) == [("container", "CNN")]


def test_sending_the_same_form_twice_makes_one_submission(setup):
    import re

    client, url, _ = setup
    page = client.get(url).text
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    assert key != re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', client.get(url).text).group(1)
    answers = [client.post(url, {"kind": "file", "idempotency_key": key, "method_name": "M",
                                 "file": SimpleUploadedFile("p.csv", GOOD)}, HTTP_ACCEPT="application/json")
               for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Submission.objects.count() == 1
