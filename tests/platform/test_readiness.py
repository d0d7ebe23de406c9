"""The readiness check: one problem per kind of mistake, the organisers-only page and API, and the
audited override that publishes a challenge that is not ready."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.challenges.models import Challenge, TrackAsset
from arena.challenges.readiness import Problem, Readiness, challenge_publish_check, challenge_readiness
from arena.core.errors import DomainError
from tests.platform.factories import (
    ChallengeFactory,
    LicenceFactory,
    PhaseFactory,
    TrackFactory,
    UserFactory,
    ready_team,
)

pytestmark = pytest.mark.django_db

WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
OV_GOLD = b"name,openset\ns1,\"['happy', 'sad']\"\ns2,\"['angry']\"\ns3,\"['worried']\"\ns4,\n"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def organiser():
    return UserFactory(username="organiser")


@pytest.fixture
def challenge(organiser):
    """Ready: a licence, one track, one phase inside the challenge's dates with references that parse."""
    challenge = ChallengeFactory(slug="ready", title="Ready", organisers=[organiser], is_published=False,
                                 starts_at=at("2030-01-01"), ends_at=at("2030-06-30"))
    LicenceFactory(challenge=challenge)
    track = TrackFactory(challenge=challenge, title="Discrete")
    PhaseFactory(track=track, title="Validation", opens_at=at("2030-02-01"), closes_at=at("2030-03-01"))
    return challenge


def _phase(challenge):
    return challenge.tracks.get().phases.get()


def _problems(challenge) -> list[dict]:
    return [problem.to_json() for problem in challenge_readiness(challenge).problems]


def _at_phase(phase, message: str) -> dict:
    return {"where": {"kind": "phase", "id": phase.pk, "title": f"{phase.track.title} / {phase.title}"},
            "message": message}


def _at_track(track, message: str) -> dict:
    return {"where": {"kind": "track", "id": track.pk, "title": track.title}, "message": message}


def test_a_ready_challenge_has_no_problems(client, challenge, organiser):
    assert challenge_readiness(challenge) == Readiness(ready=True, problems=[])
    client.force_login(organiser)
    response = client.get(f"/api/v1/challenges/{challenge.slug}/readiness")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "problems": []}


def test_a_missing_reference(challenge):
    phase = _phase(challenge)
    phase.reference_public = phase.reference_private = ""
    phase.save()
    assert _problems(challenge) == [
        _at_phase(phase, "The phase has no reference; upload a public or a private reference.")]


def test_a_reference_gone_from_storage(challenge):
    phase = _phase(challenge)
    phase.reference_public.storage.delete(phase.reference_public.name)
    assert _problems(challenge) == [_at_phase(
        phase, f"The public reference '{phase.reference_public.name}' is missing from storage; upload it again.")]


@pytest.mark.parametrize(("data", "message"), [
    (b"name,discrete\ns4,joyful\n",
     "The reference does not parse with scorer mer.discrete: gold file, line 2, column 'discrete': 'joyful' is "
     "not a label of this track; use one of neutral, angry, happy, sad, worried, surprise"),
    (b"image_location,valence,arousal\n1/00001.jpg,0.1,0.2\n",  # an abaw.va reference on a MER track
     "The reference does not parse with scorer mer.discrete: gold file, line 1, column 'name': the header names "
     "'image_location' where 'name' is expected; the first line must be name,discrete"),
    (bytes(range(256)) * 4,
     "The reference does not parse with scorer mer.discrete: gold file, line 2: the file is not UTF-8 text (byte "
     "0x80 cannot be decoded); save the file as UTF-8"),
], ids=["bad-label", "other-track", "random-bytes"])
def test_a_reference_that_does_not_parse(challenge, data, message):
    phase = _phase(challenge)
    phase.reference_private.save("private.csv", ContentFile(data), save=True)
    assert _problems(challenge) == [_at_phase(phase, message)]


def _ov_track(challenge, wheel_files: list[str], gold: bytes = OV_GOLD):
    track = TrackFactory(challenge=challenge, title="Open vocabulary", scorer_key="mer.ov-wheel")
    for name in wheel_files:
        TrackAsset.objects.create(track=track, path=name,
                                  file=ContentFile((WHEELS / name).read_bytes(), name=name))
    PhaseFactory(track=track, title="Test", opens_at=at("2030-02-01"), closes_at=at("2030-03-01"),
                 reference_public=ContentFile(gold, name="public.csv"), reference_private="")
    return track


def test_an_ov_wheel_track_with_its_wheel_files_is_ready(challenge):
    _ov_track(challenge, ["format.csv", "synonym.csv", *(f"wheel{n}.csv" for n in range(1, 6))])
    assert _problems(challenge) == []


def test_a_reference_that_does_not_reach_the_best_value_against_itself(challenge):
    # No label of this reference is on the fourth wheel, so even the reference itself scores 0 there.
    track = _ov_track(challenge, ["format.csv", "synonym.csv", *(f"wheel{n}.csv" for n in range(1, 6))],
                      gold=b"name,openset\ns1,\"['happy', 'sad']\"\ns2,\"['angry']\"\n")
    assert _problems(challenge) == [_at_phase(
        track.phases.get(), "The public reference scored against itself gives 0.8, not the best value 1; check the "
        "reference and the scorer options.")]


def test_an_ov_wheel_track_without_its_wheel_files_names_the_missing_ones(challenge):
    track = _ov_track(challenge, ["synonym.csv"])
    assert _problems(challenge) == [_at_track(
        track, "The scorer's asset files are missing or invalid: emotion-wheel folder of the track lacks "
        "format.csv or format.xlsx; wheel1.xlsx or wheel1.csv; wheel2.xlsx or wheel2.csv; wheel3.xlsx or "
        "wheel3.csv; wheel4.xlsx or wheel4.csv; wheel5.xlsx or wheel5.csv")]


def test_a_container_track_without_inputs(challenge):
    track = challenge.tracks.get()
    track.accepts_containers = True
    track.save()
    assert _problems(challenge) == [_at_phase(
        _phase(challenge), "The track accepts containerised models but the phase has no container inputs (the "
        "hidden test inputs models read at /input).")]


def test_a_candidate_list_that_does_not_cover_the_reference(challenge):
    phase = _phase(challenge)
    phase.candidates.save("candidates.csv", ContentFile(b"name\ns1\ns2\ns3\n"), save=True)
    assert _problems(challenge) == [_at_phase(
        phase, "The candidate list does not fit the references: gold file: 2 reference key(s) are not in the "
        "candidate list, e.g. 's4'; publish a list that covers the reference")]


def test_phase_dates_outside_the_challenge(challenge):
    phase = _phase(challenge)
    phase.opens_at, phase.closes_at = at("2029-12-01"), at("2030-07-15")
    phase.save()
    assert _problems(challenge) == [
        _at_phase(phase, "The phase opens (2029-12-01 00:00 UTC) before the challenge starts (2030-01-01 00:00 UTC)."),
        _at_phase(phase, "The phase closes (2030-07-15 00:00 UTC) after the challenge ends (2030-06-30 00:00 UTC)."),
    ]


def test_a_dataset_released_after_the_challenge_ends(challenge):
    from arena.datasets.models import Dataset, DatasetFile

    dataset = Dataset.objects.create(challenge=challenge, slug="train", title="Training set")
    DatasetFile.objects.create(dataset=dataset, name="late.csv", kind="train", release_at=at("2030-07-01"),
                               file=ContentFile(b"name\n", name="late.csv"))
    assert _problems(challenge) == [{
        "where": {"kind": "dataset", "id": dataset.pk, "title": "Training set"},
        "message": "Files of this dataset are released after the challenge ends (2030-06-30 00:00 UTC)."}]


def test_no_licence(challenge):
    challenge.licences.all().delete()
    assert _problems(challenge) == [{
        "where": {"kind": "challenge", "id": challenge.pk, "title": "Ready"},
        "message": "The challenge has no licence; add one (teams accept it before they take part)."}]


def test_the_reference_is_read_and_scored_once_per_check(challenge, monkeypatch):
    import scorers

    scorer = scorers.get_scorer("mer.discrete")
    calls = []
    original = type(scorer).compute
    monkeypatch.setattr(type(scorer), "compute", lambda self, *a, **kw: calls.append(1) or original(self, *a, **kw))
    assert challenge_readiness(challenge).ready
    assert len(calls) == 2  # the public and the private reference, once each


# --- who may see it ------------------------------------------------------------------------

@pytest.fixture
def others(challenge):
    participant = UserFactory(username="participant")
    ready_team(challenge=challenge, members=[participant])
    other_organiser = UserFactory(username="other-organiser")
    ChallengeFactory(slug="other", organisers=[other_organiser])
    return {"anonymous": None, "participant": participant, "other_organiser": other_organiser}


@pytest.mark.parametrize("who", ["anonymous", "participant", "other_organiser"])
def test_the_api_answers_404_like_an_unknown_challenge(client, challenge, others, who):
    challenge.is_published = True
    challenge.save()
    if others[who] is not None:
        client.force_login(others[who])
    unknown = client.get("/api/v1/challenges/no-such-challenge/readiness")
    refused = client.get(f"/api/v1/challenges/{challenge.slug}/readiness")
    assert (refused.status_code, unknown.status_code) == (404, 404)
    assert refused.json() == {"code": "not_found", "message": "No challenge 'ready'.", "details": {}}
    assert unknown.json() == {"code": "not_found", "message": "No challenge 'no-such-challenge'.", "details": {}}


@pytest.mark.parametrize("who", ["anonymous", "participant", "other_organiser"])
def test_the_page_is_for_organisers_only(client, challenge, others, who, organiser):
    challenge.is_published = True
    challenge.save()
    if others[who] is not None:
        client.force_login(others[who])
    assert client.get(f"/c/{challenge.slug}/readiness/").status_code == 404
    assert client.get("/c/no-such-challenge/readiness/").status_code == 404
    client.force_login(organiser)
    _phase(challenge).reference_public.save("public.csv", ContentFile(b"name,discrete\ns1,joyful\n"), save=True)
    page = client.get(f"/c/{challenge.slug}/readiness/")
    assert page.status_code == 200
    assert "1 problem to fix" in page.text and "&#x27;joyful&#x27; is not a label of this track" in page.text


def test_the_admin_change_page_shows_the_problems(client, challenge, organiser):
    challenge.licences.all().delete()
    client.force_login(organiser)
    page = client.get(reverse("admin:challenges_challenge_change", args=[challenge.pk]))
    assert page.status_code == 200
    assert "The challenge has no licence; add one" in page.text


# --- publishing needs the override while not ready -----------------------------------------

def _challenge_post(challenge, **extra):
    starts, ends = timezone.localtime(challenge.starts_at), timezone.localtime(challenge.ends_at)
    licences = list(challenge.licences.filter(dataset__isnull=True).order_by("version"))
    data = {
        "title": challenge.title, "slug": challenge.slug, "summary": challenge.summary, "is_published": "on",
        "overview": challenge.overview, "rules": challenge.rules,
        "starts_at_0": starts.strftime("%Y-%m-%d"), "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"), "ends_at_1": ends.strftime("%H:%M:%S"),
        "max_team_size": challenge.max_team_size, "add_organiser": "",
        "licences-TOTAL_FORMS": len(licences), "licences-INITIAL_FORMS": len(licences),
        "licences-MIN_NUM_FORMS": 0, "licences-MAX_NUM_FORMS": 1000,
    }
    for i, licence in enumerate(licences):
        data.update({f"licences-{i}-id": licence.pk, f"licences-{i}-challenge": challenge.pk,
                     f"licences-{i}-version": licence.version, f"licences-{i}-title": licence.title,
                     f"licences-{i}-text": licence.text})
    data.update(extra)
    return data


NOT_READY = ("The challenge is not ready: challenge 'Ready': The challenge has no licence; add one (teams accept it "
             "before they take part). Fix these, or tick \"publish even though not ready\".")


def test_publishing_a_challenge_that_is_not_ready_is_refused_without_the_override(client, challenge, organiser):
    challenge.licences.all().delete()
    client.force_login(organiser)
    response = client.post(reverse("admin:challenges_challenge_change", args=[challenge.pk]),
                           _challenge_post(challenge))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["publish_anyway"] == [NOT_READY]
    assert not Challenge.objects.get(pk=challenge.pk).is_published
    assert not AuditEntry.objects.filter(action="challenge.publish_not_ready").exists()


def test_publishing_with_the_override_is_audited_with_the_problems(client, challenge, organiser):
    challenge.licences.all().delete()
    client.force_login(organiser)
    response = client.post(reverse("admin:challenges_challenge_change", args=[challenge.pk]),
                           _challenge_post(challenge, publish_anyway="on"))
    assert response.status_code == 302
    assert Challenge.objects.get(pk=challenge.pk).is_published
    entry = AuditEntry.objects.get(action="challenge.publish_not_ready")
    assert (entry.actor, entry.challenge, entry.target_id) == (organiser, challenge, str(challenge.pk))
    assert entry.details == {"problems": [{
        "where": {"kind": "challenge", "id": challenge.pk, "title": "Ready"},
        "message": "The challenge has no licence; add one (teams accept it before they take part)."}]}


def test_a_ready_challenge_publishes_without_the_override(client, challenge, organiser):
    client.force_login(organiser)
    response = client.post(reverse("admin:challenges_challenge_change", args=[challenge.pk]),
                           _challenge_post(challenge))
    assert response.status_code == 302
    assert Challenge.objects.get(pk=challenge.pk).is_published
    assert not AuditEntry.objects.filter(action="challenge.publish_not_ready").exists()


def test_the_publish_check_service_refuses_and_audits(challenge, organiser):
    challenge.licences.all().delete()
    with pytest.raises(DomainError) as refused:
        challenge_publish_check(challenge=challenge, actor=organiser, override=False)
    assert (refused.value.code, refused.value.message) == ("not_ready", NOT_READY)
    assert not AuditEntry.objects.exists()
    readiness = challenge_publish_check(challenge=challenge, actor=organiser, override=True)
    assert readiness.problems == [Problem("challenge", challenge.pk, "Ready", "The challenge has no licence; add "
                                          "one (teams accept it before they take part).")]
    assert AuditEntry.objects.get().action == "challenge.publish_not_ready"


def test_saving_an_open_phase_of_a_published_challenge_that_is_not_ready_needs_the_override(challenge):
    from arena.challenges.forms import PhaseAdminForm

    challenge.is_published = True
    challenge.save()
    challenge.licences.all().delete()
    phase = _phase(challenge)
    data = {"track": phase.track.pk, "slug": phase.slug, "title": phase.title, "kind": phase.kind, "order": 0,
            "opens_at": at("2030-01-02"), "closes_at": phase.closes_at, "board_visibility": "live",
            "entry_rule": "best_public", "max_selected": 1}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: at("2030-01-10"))
        form = PhaseAdminForm(instance=phase, data=data)
        assert not form.is_valid()
        assert form.errors["publish_anyway"][0].startswith("The challenge is not ready: challenge 'Ready'")
        assert PhaseAdminForm(instance=phase, data={**data, "publish_anyway": "on"}).is_valid()
        LicenceFactory(challenge=challenge)
        assert PhaseAdminForm(instance=_phase(challenge), data=data).is_valid()


def test_the_demo_challenges_are_ready():
    from arena.demo.services import demo_load

    demo_load()
    assert {c.slug: challenge_readiness(c).to_json() for c in Challenge.objects.order_by("slug")} == {
        "abaw-style": {"ready": True, "problems": []}, "mer-style": {"ready": True, "problems": []}}
