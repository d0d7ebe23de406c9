"""Robustness protocols: the summary maths, the rules a phase's protocol must meet (one test per kind of
mistake, through Phase.clean, the admin and the organiser API), the SHA-256 of the container inputs, and
the media check the readiness check shows organisers before the phase opens."""

import hashlib
import io
import json
import wave
import zipfile
from datetime import datetime

import numpy as np
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

import scorers
from arena.accounts.permissions import host_challenges_permission
from arena.audit.models import AuditEntry
from arena.challenges import media
from arena.challenges.admin import PhaseInline
from arena.challenges.cloning import challenge_clone
from arena.challenges.forms import PhaseInlineForm
from arena.challenges.models import Phase, TrackAsset
from arena.challenges.protocol_checks import phase_protocol_problem
from arena.challenges.readiness import phase_readiness
from arena.challenges.robustness import curves as protocol_curves
from arena.challenges.robustness import parse_protocol, phase_protocol, summarise
from arena.demo.services import demo_load
from fixtures.demo.mer_style import NOISE_PROTOCOL
from sandboxes.corruptions.io import write_png
from tests.platform.factories import ChallengeFactory, PhaseFactory, TrackFactory, UserFactory

PROTOCOL = {
    "conditions": [
        {"name": "clean", "condition": "clean"},
        {"name": "snr10", "condition": "noise:white@10db"},
        {"name": "snr0", "condition": "noise:white@0db"},
        {"name": "blur4", "condition": "blur:4"},
        {"name": "snr0+blur4", "condition": "noise:white@0db+blur:4", "severity": 3},
    ],
    "seed": 2024,
}
SCORES = {"clean": 0.8, "snr10": 0.7, "snr0": 0.5, "blur4": 0.6, "snr0+blur4": 0.4}


# -- robustness.py, pure ----------------------------------------------------------------------


def test_parse_fills_in_defaults_families_and_severities():
    protocol = parse_protocol(PROTOCOL)
    assert (protocol.seed, protocol.summary, protocol.on_failure) == (2024, "mean", "condition")
    assert [(c.name, c.spec, c.family, c.severity) for c in protocol.conditions] == [
        ("clean", "clean", "clean", 0.0),
        ("snr10", "noise:white@10db", "noise:white", 1.0),
        ("snr0", "noise:white@0db", "noise:white", 2.0),
        ("blur4", "blur:4", "blur", 1.0),
        ("snr0+blur4", "noise:white@0db+blur:4", "noise:white+blur", 3.0),
    ]
    assert parse_protocol({"conditions": [{"name": "c", "condition": "clean"}]}).seed == 0


def test_a_stored_noise_bank_protocol_reads_back_without_the_bank():
    # phase_protocol parses without the bank (checked on save): "noise:bank" must not fail there.
    phase = Phase(robustness_protocol={"conditions": [{"name": "bank5", "condition": "noise:bank@5db"}]})
    protocol = phase_protocol(phase)
    assert protocol.uses_noise_bank and protocol.conditions[0].family == "noise:bank"
    assert phase_protocol(Phase()) is None


def test_mean_and_worst_summaries_and_failed_conditions():
    protocol = parse_protocol(PROTOCOL)
    assert summarise(protocol, SCORES) == pytest.approx(3.0 / 5)
    assert summarise(parse_protocol({**PROTOCOL, "summary": "worst"}), SCORES) == 0.4
    # A failed condition counts as the scale's worst value; without one the summary is undefined.
    assert summarise(protocol, {**SCORES, "snr0": None}, failed_value=0.0) == pytest.approx(2.5 / 5)
    assert summarise(protocol, {**SCORES, "snr0": None}, failed_value=-1.0) == pytest.approx(1.5 / 5)
    assert summarise(protocol, {**SCORES, "snr0": None}) is None
    worst = parse_protocol({**PROTOCOL, "summary": "worst"})
    assert summarise(worst, SCORES, greater_is_better=False) == 0.8
    assert summarise(worst, {**SCORES, "snr0": None}, greater_is_better=False, failed_value=9.0) == 9.0


def test_auc_averages_each_family_s_normalised_trapezoid_area():
    protocol = parse_protocol({**PROTOCOL, "summary": "auc"})
    # noise:white: (0, .8) (1, .7) (2, .5): (.75 + .6) / 2 = .675; blur: (0, .8) (1, .6): .7;
    # noise:white+blur: (0, .8) (3, .4): 3 * 1.2 / 2 / 3 = .6.
    assert summarise(protocol, SCORES) == pytest.approx((0.675 + 0.7 + 0.6) / 3)
    assert summarise(parse_protocol({"conditions": [{"name": "c", "condition": "clean"}], "summary": "auc"}),
                     {"c": 0.9}) == 0.9


def test_curves_start_at_clean_in_severity_order():
    assert protocol_curves(parse_protocol(PROTOCOL), {**SCORES, "snr10": None}) == {
        "noise:white": [(0.0, 0.8), (1.0, None), (2.0, 0.5)],
        "blur": [(0.0, 0.8), (1.0, 0.6)],
        "noise:white+blur": [(0.0, 0.8), (3.0, 0.4)],
    }


# -- the rules, on save ------------------------------------------------------------------------


@pytest.fixture
def organiser(db):
    return UserFactory(username="organiser")


@pytest.fixture
def phase(organiser):
    challenge = ChallengeFactory(slug="noise", organisers=[organiser], is_published=False)
    track = TrackFactory(challenge=challenge, title="Noise", accepts_containers=True, accepts_files=False,
                         container_wall_seconds=600)
    TrackAsset.objects.create(track=track, path="wheel.csv", file=ContentFile(b"a,b\n", name="wheel.csv"))
    return PhaseFactory(track=track, title="Test")


def _refused(phase, protocol) -> str:
    """Phase.clean's message on the protocol field; the stored phase keeps no protocol."""
    phase.robustness_protocol = protocol
    with pytest.raises(ValidationError) as refused:
        phase.full_clean()
    assert set(refused.value.message_dict) == {"robustness_protocol"}
    assert Phase.objects.get(pk=phase.pk).robustness_protocol == {}
    [message] = refused.value.message_dict["robustness_protocol"]
    return message


def _one(condition: str, **extra) -> dict:
    return {"conditions": [{"name": "clean", "condition": "clean"}, {"name": "noisy", "condition": condition}],
            **extra}


def test_a_valid_protocol_is_accepted(phase):
    phase.robustness_protocol = PROTOCOL
    phase.full_clean()


def test_noise_bank_without_wav_assets_is_refused_naming_the_assets(phase):
    assert _refused(phase, _one("noise:bank@5db")) == (
        "conditions[1].condition: Condition 'noisy': noise:bank needs a noise bank, but the list of noise files is "
        "empty: upload the noise files (WAV, 16 kHz mono) as assets of this track first. The track's assets "
        "(wheel.csv) hold no .wav file.")
    TrackAsset.objects.create(track=phase.track, path="Cafe.WAV", file=ContentFile(b"x", name="cafe.wav"))
    phase.robustness_protocol = _one("noise:bank@5db")
    phase.full_clean()


def test_an_unknown_corruption_is_refused(phase):
    assert _refused(phase, _one("noise:white@5db+sharpen:2")) == (
        "conditions[1].condition: Condition 'noisy': Unknown corruption \"sharpen\" in \"sharpen:2\"; known: blank, "
        "blur, drop, gauss, jpeg, mute, noise, occlude.")


def test_an_snr_that_is_not_a_number_is_refused(phase):
    assert _refused(phase, _one("noise:white@loud")) == (
        "conditions[1].condition: Condition 'noisy': The SNR of \"noise:white@loud\" is not a number: \"loud\" "
        "(write e.g. \"noise:white@5db\").")


def test_an_empty_list_of_conditions_is_refused(phase):
    assert _refused(phase, {"conditions": [], "seed": 1}) == (
        "conditions: The protocol lists no conditions; give at least one, e.g. "
        "[{\"name\": \"clean\", \"condition\": \"clean\"}].")


def test_duplicate_names_are_refused(phase):
    protocol = {"conditions": [{"name": "snr", "condition": "noise:white@5db"},
                               {"name": "snr", "condition": "noise:white@0db"}]}
    assert _refused(phase, protocol) == (
        "conditions[1].name: Two conditions are named 'snr' (conditions 1 and 2); names must be unique.")


def test_a_file_only_phase_needs_a_condition_map(phase):
    phase.track.accepts_containers, phase.track.accepts_files = False, True
    phase.track.save()
    protocol = _one("noise:white@5db")
    assert _refused(phase, protocol) == (
        "This track takes prediction files only; an uploaded file's per-condition scores come from a condition "
        "map, without which it would be ranked on the clean inputs beside models ranked on every condition. "
        "Upload one (a CSV \"key,condition\" naming the condition each test key was recorded under) with the "
        "phase's references, or remove the protocol.")
    mapping = b"name,condition\ns1,clean\ns2,noisy\ns3,noisy\ns4,clean\ns5,noisy\n"
    phase.condition_map.save("conditions.csv", ContentFile(mapping), save=False)
    phase.robustness_protocol = protocol
    phase.full_clean()


def test_a_phase_taking_files_and_models_needs_a_condition_map_too(phase):
    phase.track.accepts_files = True
    phase.track.save()
    assert _refused(phase, _one("noise:white@5db")).endswith(
        "with the phase's references, or turn off prediction files for this track.")
    assert "takes prediction files as well as models" in _refused(phase, _one("noise:white@5db"))


def test_failed_conditions_need_a_scale_with_a_floor(phase, monkeypatch):
    monkeypatch.setattr(type(scorers.get_scorer("mer.discrete")), "worst_score", None)
    assert _refused(phase, {**PROTOCOL, "on_failure": "condition"}) == (
        "on_failure: \"condition\" scores a failed condition at the lowest score of the scale, but this track's "
        "scorer (mer.discrete) has no lowest score (an unbounded error term), so a model could gain by failing a "
        "hard condition. Use \"on_failure\": \"submission\" (a failed condition then fails the whole submission).")
    phase.robustness_protocol = {**PROTOCOL, "on_failure": "submission"}
    phase.full_clean()


def test_the_runs_must_fit_the_site_s_time_limit(phase, settings):
    settings.ARENA_MAX_CONTAINER_WALL_SECONDS = 2400
    assert _refused(phase, PROTOCOL) == (
        "conditions: 5 conditions × 600 s per run (the track's container wall-clock limit) = 3000 s, more than "
        "this site's maximum of 2400 s per model (ARENA_MAX_CONTAINER_WALL_SECONDS). Lower the track's wall-clock "
        "limit to at most 480 s, or drop conditions.")


# -- the admin ---------------------------------------------------------------------------------


def _admin_post(client, phase, **changes) -> dict:
    """What the phase form posts when the organiser changes only ``changes``."""
    page = client.get(reverse("admin:challenges_phase_change", args=[phase.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name in ("reference_public", "reference_private", "candidates", "container_inputs", "condition_map"):
            continue
        if isinstance(value, datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
                     f"{prefix}-MAX_NUM_FORMS": 1000})
    data.update(changes)
    return data


def test_an_organiser_sets_the_protocol_and_uploads_inputs_in_the_admin(client, phase, organiser):
    client.force_login(organiser)  # an organiser, not a superuser
    url = reverse("admin:challenges_phase_change", args=[phase.pk])
    refused = client.post(url, _admin_post(client, phase, robustness_protocol=json.dumps(_one("blur:3"))))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"robustness_protocol": [
        "conditions[1].condition: Condition 'noisy': The rate of \"blur:3\" must be 1, 2, 4, 8, ... (a power of "
        "two); got 3."]}
    assert Phase.objects.get(pk=phase.pk).robustness_protocol == {}

    archive = _archive({"a.wav": _wav([0.1, -0.1] * 800)})
    response = client.post(url, _admin_post(client, phase, robustness_protocol=json.dumps(PROTOCOL),
                                            container_inputs=SimpleUploadedFile("inputs.zip", archive)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Phase.objects.get(pk=phase.pk)
    assert stored.robustness_protocol == PROTOCOL
    assert stored.container_inputs_sha256 == hashlib.sha256(archive).hexdigest()
    page = client.get(url).content.decode()
    assert "&quot;noise:white@10db&quot;" in page and stored.container_inputs_sha256 in page  # shown, read-only

    # Removing the inputs empties the SHA-256.
    data = _admin_post(client, stored)
    data["container_inputs-clear"] = "on"
    assert client.post(url, data).status_code == 302
    assert Phase.objects.get(pk=phase.pk).container_inputs_sha256 == ""


# -- the organiser API ---------------------------------------------------------------------------


def test_the_organiser_api_shows_and_sets_the_protocol_with_the_same_rules(client, phase, organiser):
    url = f"/api/v1/phases/{phase.pk}/setup"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(organiser)
    phase.container_inputs.save("inputs.csv", ContentFile(b"name\ns1\n"), save=True)
    media.phase_container_inputs_sync(phase=phase)
    assert client.get(url).json() == {
        "id": phase.pk, "slug": phase.slug, "title": "Test", "robustness_protocol": {}, "container_inputs": True,
        "container_inputs_sha256": hashlib.sha256(b"name\ns1\n").hexdigest(), "condition_map": False}

    refused = client.patch(url, {"robustness_protocol": _one("noise:white@loud")}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json() == {"code": "invalid_protocol", "details": {"field": "robustness_protocol"}, "message": (
        "conditions[1].condition: Condition 'noisy': The SNR of \"noise:white@loud\" is not a number: \"loud\" "
        "(write e.g. \"noise:white@5db\").")}
    assert Phase.objects.get(pk=phase.pk).robustness_protocol == {}
    assert not AuditEntry.objects.filter(action="phase.robustness_protocol").exists()

    done = client.patch(url, {"robustness_protocol": PROTOCOL}, content_type="application/json")
    assert done.status_code == 200 and done.json()["robustness_protocol"] == PROTOCOL
    assert Phase.objects.get(pk=phase.pk).robustness_protocol == PROTOCOL
    assert AuditEntry.objects.get(action="phase.robustness_protocol").details == {"before": {}, "after": PROTOCOL}
    removed = client.patch(url, {"robustness_protocol": None}, content_type="application/json")
    assert removed.json()["robustness_protocol"] == {}


def test_cloning_copies_the_protocol_but_not_the_condition_map(phase, organiser):
    organiser.user_permissions.add(host_challenges_permission())
    phase.robustness_protocol = PROTOCOL
    phase.condition_map.save("conditions.csv", ContentFile(b"name,condition\n"), save=True)
    clone = challenge_clone(actor=organiser, challenge=phase.track.challenge, slug="noise-2027", title="2027",
                            offset_days=365)
    copy = Phase.objects.get(track__challenge=clone)
    assert (copy.robustness_protocol, copy.condition_map.name, copy.container_inputs_sha256) == (PROTOCOL, "", "")


# -- the media check -------------------------------------------------------------------------------


def _wav(samples) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16_000)
        handle.writeframes((np.asarray(samples) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _png(tmp_path, name: str) -> bytes:
    path = tmp_path / name
    write_png(path, np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    return path.read_bytes()


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def media_phase(phase, tmp_path):
    """A robustness phase whose inputs hold one corrupt WAV and one truncated PNG among good clips."""
    good_png = _png(tmp_path, "frame.png")
    archive = _archive({
        "s1.wav": _wav([0.2, -0.2] * 1600), "s1/0001.png": good_png, "s1/0002.png": good_png[:len(good_png) // 2],
        "s2.wav": b"RIFF\x10\x00\x00\x00WAVEjunk-not-a-wav", "s3.wav": _wav([0.1] * 1600), "clips.csv": b"name\ns1\n",
    })
    Phase.objects.filter(pk=phase.pk).update(robustness_protocol={**PROTOCOL, "conditions": [
        *PROTOCOL["conditions"], {"name": "babble5", "condition": "noise:babble@5db"}]})
    phase.refresh_from_db()
    phase.container_inputs.save("inputs.zip", ContentFile(archive), save=True)
    return phase


def _phase_messages(phase) -> list[str]:
    return [p.message for p in phase_readiness(phase).problems if p.kind == "phase"]


BAD_MEDIA = (
    "2 media file(s) of the container inputs cannot be read, so the protocol's corruptions cannot be applied: "
    "s1/0002.png (the PNG is cut short in its 'IDAT' chunk); "
    "s2.wav (not a readable WAV file (a chunk size points past the end of the file)). Audio must be 16 kHz mono "
    "16-bit WAV, frames 8-bit grayscale or RGB PNG; fix the files and upload the inputs again.")


def test_the_readiness_check_names_the_unreadable_media_once_per_upload(media_phase, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert media.phase_container_inputs_sync(phase=media_phase)
    assert len(sent) == 1  # the check is queued when the inputs change
    assert _phase_messages(media_phase) == [BAD_MEDIA]  # small: checked at once, and stored
    stored = Phase.objects.get(pk=media_phase.pk)
    assert stored.container_inputs_media == {
        "sha256": stored.container_inputs_sha256, "checked_at": stored.container_inputs_media["checked_at"],
        "wav_files": 3, "png_files": 2, "clips_with_audio": 2, "problem_count": 2,
        "problems": [{"file": "s1/0002.png", "reason": "the PNG is cut short in its 'IDAT' chunk"},
                     {"file": "s2.wav", "reason": "not a readable WAV file (a chunk size points past the end of "
                                                   "the file)"}]}

    def read_again(phase):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(media, "container_inputs_media_report", read_again)
    assert _phase_messages(stored) == [BAD_MEDIA]


def test_a_large_archive_shows_as_being_checked_until_the_task_ran(media_phase, monkeypatch):
    media.phase_container_inputs_sync(phase=media_phase)
    dispatched = []
    monkeypatch.setattr(media, "INLINE_CHECK_BYTES", 10)
    monkeypatch.setattr(media, "media_check_dispatch", lambda *, phase_id: dispatched.append(phase_id))
    assert _phase_messages(media_phase) == [
        "The container inputs are being checked (each WAV and PNG file is read once per upload); look again in a "
        "few minutes."]
    assert dispatched == [media_phase.pk]
    media.phase_media_check(phase_id=media_phase.pk)  # what the task runs
    assert _phase_messages(Phase.objects.get(pk=media_phase.pk)) == [BAD_MEDIA]


def test_babble_needs_two_clips_with_audio_and_the_noise_bank_must_be_readable(phase):
    TrackAsset.objects.create(track=phase.track, path="cafe.wav", file=ContentFile(_wav([0.3, -0.3] * 100),
                                                                                     name="cafe.wav"))
    TrackAsset.objects.create(track=phase.track, path="hum.wav", file=ContentFile(b"not a wav", name="hum.wav"))
    Phase.objects.filter(pk=phase.pk).update(robustness_protocol={"conditions": [
        {"name": "babble5", "condition": "noise:babble@5db"}, {"name": "bank5", "condition": "noise:bank@5db"}]})
    phase.refresh_from_db()
    phase.container_inputs.save("inputs.zip", ContentFile(_archive({"s1.wav": _wav([0.2] * 100)})), save=True)
    media.phase_container_inputs_sync(phase=phase)
    assert _phase_messages(phase) == [
        "Noise-bank file(s) of the track cannot be used by noise:bank: hum.wav (file does not start with RIFF id). "
        "Upload them again as 16 kHz mono 16-bit WAV files with sound.",
        "noise:babble mixes other clips of the test set, but the container inputs hold 1 clip(s) with audio; it "
        "needs at least 2 (or drop babble).",
    ]


def test_a_phase_row_of_the_track_form_shows_a_protocol_the_new_limits_break(phase):
    Phase.objects.filter(pk=phase.pk).update(robustness_protocol=PROTOCOL)
    phase.refresh_from_db()
    phase.track.container_wall_seconds = 7200  # as the track form being saved sets it
    row = forms.modelform_factory(Phase, form=PhaseInlineForm, fields=PhaseInline.fields)
    local = {name: timezone.localtime(getattr(phase, name)).strftime("%Y-%m-%d %H:%M:%S")
             for name in ("opens_at", "closes_at")}
    form = row({"title": phase.title, "slug": phase.slug, "kind": phase.kind, "order": 0, **local}, instance=phase)
    assert not form.is_valid()
    assert form.errors == {"__all__": [
        "Robustness protocol: conditions: 5 conditions × 7200 s per run (the track's container wall-clock limit) = "
        "36000 s, more than this site's maximum of 21600 s per model (ARENA_MAX_CONTAINER_WALL_SECONDS). Lower the "
        "track's wall-clock limit to at most 4320 s, or drop conditions."]}


def test_the_demo_s_noise_track_carries_a_protocol_and_its_inputs_sha(db, settings):
    demo_load()
    phases = Phase.objects.filter(track__slug="mer-noise").select_related("track")
    assert [p.slug for p in phases] == ["validation", "test"]
    for phase in phases:
        assert phase.robustness_protocol == NOISE_PROTOCOL
        assert phase_protocol_problem(phase) is None
        conditions = len(parse_protocol(phase.robustness_protocol).conditions)
        assert conditions >= 5 and conditions * phase.track.container_wall_seconds <= (
            settings.ARENA_MAX_CONTAINER_WALL_SECONDS)
        with phase.container_inputs.open("rb") as stored:
            assert phase.container_inputs_sha256 == hashlib.sha256(stored.read()).hexdigest()
    assert not Phase.objects.exclude(track__slug="mer-noise").exclude(robustness_protocol={}).exists()
    # Its media (the clips' WAV and PNG files) pass the media check, babble included.
    assert _phase_messages(phases[0]) == []
    assert Phase.objects.get(pk=phases[0].pk).container_inputs_media["problem_count"] == 0
