"""A phase that publishes a candidate list: probing the hidden test keys through uploads learns nothing,
and refused uploads are braked per team and hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.submissions.models import RefusedUpload, Submission
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

# The factories' references hold s1..s5 (public s1-s3, private s4-s5); the pool hides them among 20 clips.
CANDIDATES = [f"s{i}" for i in range(1, 21)]
HIDDEN, ORDINARY = "s4", "s14"


def _csv(names: list[str]) -> bytes:
    return ("name,discrete\n" + "".join(f"{n},happy\n" for n in names)).encode()


@pytest.fixture
def pool(client):
    user = UserFactory()
    phase = PhaseFactory(track__max_per_day=None, track__max_total=None, track__max_in_flight=None)
    phase.candidates.save("candidates.csv", ContentFile(("name\n" + "\n".join(CANDIDATES) + "\n").encode()))
    ready_team(challenge=phase.track.challenge, members=[user])
    client.force_login(user)
    return phase


def _post(client, phase, data: bytes):
    response = client.post(f"/api/v1/phases/{phase.pk}/submissions",
                           {"file": SimpleUploadedFile("p.csv", data), "method_name": "probe"})
    return response.status_code, response.json()


def _as_if(answer: tuple[int, dict], name: str, other: str) -> tuple[int, dict]:
    """The answer with one candidate's name written as another's: what differs must be the name alone."""
    status, body = answer
    import json

    return status, json.loads(json.dumps(body).replace(name, other))


def _reordered(first: str, second: str) -> list[str]:
    """The candidates with two of them swapped, so each stands where the other stood."""
    return [{first: second, second: first}.get(c, c) for c in CANDIDATES]


def test_probing_for_the_hidden_test_keys_learns_nothing(client, pool):
    # Leave out a hidden key, or an ordinary candidate standing in the same place.
    hidden = _post(client, pool, _csv([c for c in CANDIDATES if c != HIDDEN]))
    ordinary = _post(client, pool, _csv([c for c in _reordered(HIDDEN, ORDINARY) if c != ORDINARY]))
    assert hidden[0] == 422
    assert hidden[1]["message"] == ("prediction file, column 'name': no row for name 's4' (1 of 20 candidates have "
                                    "no row); write one row for every candidate of the published list")
    assert _as_if(hidden, HIDDEN, ORDINARY) == ordinary
    # Duplicate a hidden key, or an ordinary candidate in the same place.
    hidden = _post(client, pool, _csv([*CANDIDATES, HIDDEN]))
    ordinary = _post(client, pool, _csv([*_reordered(HIDDEN, ORDINARY), ORDINARY]))
    assert hidden[0] == 422 and "appears twice" in hidden[1]["message"]
    assert _as_if(hidden, HIDDEN, ORDINARY) == ordinary
    # A name that is no candidate, whatever it is.
    unknown = _post(client, pool, _csv([*CANDIDATES, "s99"]))
    assert unknown == (422, {"code": "invalid_submission_file", "message": (
        "prediction file, line 22, column 'name': 's99' is not a candidate; write rows for the published "
        "candidates only"), "details": {"field": "file", "line": 22, "column": "name"}})
    assert not Submission.objects.exists()


def test_a_complete_prediction_over_the_pool_is_accepted(client, pool):
    status, body = _post(client, pool, _csv(CANDIDATES))
    assert status == 201 and Submission.objects.get().pk == body["id"]


def test_refused_uploads_are_free_but_braked_per_team_and_hour(client, pool, settings):
    settings.ARENA_REFUSED_UPLOADS_PER_HOUR = 3
    for _ in range(3):
        assert _post(client, pool, _csv(CANDIDATES[:-1]))[0] == 422
    assert RefusedUpload.objects.filter(phase=pool).count() == 3
    assert AuditEntry.objects.filter(action="submission.refused_uploads_limit").count() == 1  # the organisers see it
    status, body = _post(client, pool, _csv(CANDIDATES))  # even a good file waits now
    assert (status, body["code"], body["details"]["allowed"], body["details"]["used"]) == (
        429, "refused_uploads_limit", 3, 3)
    assert body["message"].startswith("Your team's last 3 uploads to this phase were refused within an hour")
    assert not Submission.objects.exists() and RefusedUpload.objects.count() == 3
    pool.max_refused_per_hour = 5  # the phase's own cap wins over the site's
    pool.save()
    assert _post(client, pool, _csv(CANDIDATES))[0] == 201


def test_a_pool_submission_is_scored_on_the_hidden_keys(client, pool):
    from arena.submissions.models import SubmissionScore
    from arena.submissions.services.scoring import submission_score

    names = CANDIDATES
    labels = {"s1": "happy", "s2": "sad", "s3": "angry", "s4": "neutral", "s5": "worried"}
    data = ("name,discrete\n" + "".join(f"{n},{labels.get(n, 'happy')}\n" for n in names)).encode()
    status, body = _post(client, pool, data)
    assert status == 201
    submission = Submission.objects.get(pk=body["id"])
    assert submission_score(submission_id=submission.pk, token=submission.claim_token) == "scored"
    scores = dict(SubmissionScore.objects.filter(submission=submission).values_list("split", "score"))
    assert scores == {"public": 1.0, "private": 1.0}


@pytest.mark.parametrize(("field", "data", "message"), [
    ("reference_private", b"name,discrete\ns4,joyful\n",
     "The reference does not parse with scorer mer.discrete: gold file, line 2"),
    ("candidates", b"name\ns1\ns2\ns3\n",
     "The candidate list does not fit the references: gold file: 2 reference key(s) are not in the candidate list, "
     "e.g. 's4'; publish a list that covers the reference"),
])
def test_the_phase_form_refuses_references_that_do_not_parse_or_fall_outside_the_pool(field, data, message):
    from arena.challenges.forms import PhaseAdminForm

    phase = PhaseFactory()
    form = PhaseAdminForm(instance=phase, data={
        "track": phase.track.pk, "slug": phase.slug, "title": phase.title, "kind": phase.kind, "order": 0,
        "opens_at": phase.opens_at, "closes_at": phase.closes_at, "board_visibility": "live",
        "entry_rule": "best_public", "max_selected": 1,
    }, files={field: SimpleUploadedFile("file.csv", data)})
    assert not form.is_valid()
    assert form.errors[field][0].startswith(message)


def test_the_candidate_list_is_public_on_the_phase_page_and_in_the_api(client, pool):
    from django.test import Client

    anonymous = Client()
    base = f"/c/{pool.track.challenge.slug}/t/{pool.track.slug}/p/{pool.slug}/"
    assert 'href="' + base + 'candidates.csv"' in anonymous.get(base).text
    download = anonymous.get(base + "candidates.csv")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == ("name\n" + "\n".join(CANDIDATES) + "\n").encode()
    assert anonymous.get(f"/api/v1/phases/{pool.pk}").json()["candidates_url"] == (
        "http://testserver" + base + "candidates.csv")
    plain = PhaseFactory(track=pool.track)
    assert anonymous.get(f"/c/{pool.track.challenge.slug}/t/{pool.track.slug}/p/{plain.slug}/candidates.csv"
                         ).status_code == 404


def test_the_candidate_list_is_offered_on_the_data_page_from_the_phase_s_opening(client, pool):
    from django.test import Client

    from arena.challenges.models import Phase

    anonymous = Client()
    challenge = pool.track.challenge
    base = f"/c/{challenge.slug}/t/{pool.track.slug}/p/{pool.slug}/"
    link = f'href="{base}candidates.csv" download>{pool.track.slug}-{pool.slug}-candidates.csv</a>'
    assert link in anonymous.get(f"/c/{challenge.slug}/data/").text  # public: no licence, no team
    # Before the phase opens the list, like the pool it lists, is not out yet: not listed, not served.
    Phase.objects.filter(pk=pool.pk).update(opens_at=timezone.now() + timedelta(days=1))
    page = anonymous.get(f"/c/{challenge.slug}/data/").text
    assert "candidates.csv" not in page and 'id="candidate-lists"' not in page
    assert anonymous.get(base + "candidates.csv").status_code == 404
    assert anonymous.get(f"/api/v1/phases/{pool.pk}").json()["candidates_url"] is None
    assert "(published when the phase opens)" in anonymous.get(base).text
    organiser = UserFactory()
    challenge.organisers.add(organiser)
    anonymous.force_login(organiser)
    assert anonymous.get(base + "candidates.csv").status_code == 200  # organisers check it before
