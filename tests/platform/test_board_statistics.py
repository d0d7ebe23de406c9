"""Board statistics: intervals, paired p-values, tie groups and rank ranges against an independent numpy
computation; where they show (API, CSV, page) and where they must not (a hidden split before the reveal)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import numpy as np
import pytest
from django import forms
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import scorers
from arena.challenges.models import Track
from arena.challenges.services import phase_reveal_results
from arena.leaderboards.exports import entry_row_json
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, SampleRecord, StoredEntry
from arena.leaderboards.services import (
    board_settings,
    leaderboard_refresh,
    leaderboard_statistics_refresh,
    sample_record_compute,
    sample_records_save,
)
from arena.leaderboards.statistics import BoardRow, board_statistics
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.teams.models import Team
from scorers.tracks.mer import MER_EMOTIONS
from tests.platform.factories import (
    ChallengeFactory,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

K = len(MER_EMOTIONS)
SAMPLES = 400
RESAMPLES = 1000


# --- an independent computation ----------------------------------------------------------------------------


def expected_seed(phase_id: int, split: str) -> int:
    return int.from_bytes(hashlib.sha256(f"board:{phase_id}:{split}".encode()).digest()[:8], "big") & (2**63 - 1)


def weighted_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Support-weighted F1 written out from the confusion matrix of the (resampled) labels."""
    confusion = np.zeros((K, K))
    np.add.at(confusion, (gold, pred), 1.0)
    tp, truth, guessed = np.diag(confusion), confusion.sum(axis=1), confusion.sum(axis=0)
    denominator = truth + guessed
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2.0 * tp / denominator, 0.0)
    return float((f1 * truth).sum() / truth.sum())


def resampled_scores(seed: int, gold: np.ndarray, preds: list[np.ndarray], resamples: int = RESAMPLES) -> np.ndarray:
    """(entries, resamples): each entry's score on the same resampled sample indices."""
    draws = np.random.default_rng(seed).integers(0, len(gold), size=(resamples, len(gold)))
    return np.array([[weighted_f1(gold[idx], pred[idx]) for idx in draws] for pred in preds])


def expected_statistics(scores: np.ndarray, baseline: list[bool], alpha: float = 0.05) -> list[dict]:
    ranked = [i for i, b in enumerate(baseline) if not b]
    out = []
    for i in range(len(scores)):
        low, high = np.percentile(scores[i], [100 * alpha / 2, 100 * (1 - alpha / 2)])
        out.append({"interval": {"low": float(low), "high": float(high), "level": 1 - alpha}})
    group, joins = 0, False
    for k, i in enumerate(ranked):
        ranks = [1 + int(np.sum(scores[ranked, r] > scores[i, r])) for r in range(scores.shape[1])]
        p = float(np.mean(scores[ranked[k + 1]] >= scores[i])) if k + 1 < len(ranked) else None
        group += 0 if joins else 1
        out[i].update(p_vs_next=p, rank_range=[min(ranks), max(ranks)], tie_group=group)
        joins = p is not None and p > alpha
    return out


# --- a board scored by the real scorer -------------------------------------------------------------------------


def _labels(rng, gold: np.ndarray, accuracy: float) -> np.ndarray:
    wrong = rng.random(len(gold)) > accuracy
    return np.where(wrong, (gold + rng.integers(1, K, len(gold))) % K, gold)


def _csv(keys: list[str], labels: np.ndarray) -> bytes:
    return ("name,discrete\n" + "".join(f"{k},{MER_EMOTIONS[v]}\n" for k, v in zip(keys, labels, strict=True))).encode()


@pytest.fixture
def world(request):
    """Teams Alpha and Bravo planted as a tie (Bravo = Alpha with 6 of 400 rows changed per split), Charlie clearly
    behind, Delta far behind, and a baseline between Charlie and Delta; private split hidden. Parametrized
    indirectly, the track's fields (e.g. its board settings)."""
    organiser = UserFactory(username="organiser")
    member = UserFactory(username="alpha-member")
    track_fields = {f"track__{name}": value for name, value in getattr(request, "param", {}).items()}
    phase = PhaseFactory(track__scorer_key="mer.discrete", track__challenge__organisers=[organiser], **track_fields)
    challenge = phase.track.challenge
    rng = np.random.default_rng(7)
    keys = {"public": [f"p{i}" for i in range(SAMPLES)], "private": [f"q{i}" for i in range(SAMPLES)]}
    gold = {split: rng.integers(0, K, SAMPLES) for split in keys}
    golds = {split: _csv(keys[split], gold[split]) for split in keys}
    alpha = {split: _labels(rng, gold[split], 0.8) for split in keys}
    bravo = {split: alpha[split].copy() for split in keys}
    for split in keys:  # three right answers made wrong, three wrong ones made right
        right = np.flatnonzero(alpha[split] == gold[split])[:3]
        wrong = np.flatnonzero(alpha[split] != gold[split])[:3]
        bravo[split][right] = (gold[split][right] + 1) % K
        bravo[split][wrong] = gold[split][wrong]
    entries = [("Alpha", alpha), ("Bravo", bravo), ("Charlie", {s: _labels(rng, gold[s], 0.55) for s in keys}),
               ("Delta", {s: _labels(rng, gold[s], 0.3) for s in keys}),
               (None, {s: _labels(rng, gold[s], 0.4) for s in keys})]
    scorer = scorers.get_scorer("mer.discrete")
    teams, preds = {}, {}
    for minute, (name, labels) in enumerate(entries):
        team = None if name is None else TeamFactory(challenge=challenge, name=name,
                                                     members=[member] if name == "Alpha" else [])
        sub = SubmissionFactory(phase=phase, team=team, is_baseline=name is None,
                                status=SubmissionStatus.SCORED, method_name=f"method of {name}")
        Submission.objects.filter(pk=sub.pk).update(created_at=timezone.now() + timedelta(minutes=minute))
        pred = b"".join([_csv(keys["public"], labels["public"]), _csv(keys["private"], labels["private"])[14:]])
        results = scorer.score_splits(golds=golds, pred=pred, with_resampling=True)
        for split, result in results.items():
            SubmissionScore.objects.create(submission=sub, split=split, score=result.score, metrics=result.metrics)
        sample_records_save(submission_id=sub.pk, records={
            split: sample_record_compute(phase_id=phase.pk, split=split, resampling=result.resampling)
            for split, result in results.items()})
        teams[name], preds[name] = team, labels
    leaderboard_refresh(phase_id=phase.pk)
    return {"phase": phase, "gold": gold, "preds": preds, "organiser": organiser, "member": member}


def _board(phase, split) -> list[LeaderboardEntry]:
    return list(LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position"))


@pytest.mark.parametrize("split", ["public", "private"])
def test_statistics_equal_an_independent_computation(world, split):
    phase = world["phase"]
    assert leaderboard_statistics_refresh(phase_id=phase.pk) == {"public": 5, "private": 5}
    entries = _board(phase, split)
    names = [e.team_name if not e.is_baseline else None for e in entries]
    assert set(names[:2]) == {"Alpha", "Bravo"} and names[2:] == ["Charlie", None, "Delta"]
    scores = resampled_scores(expected_seed(phase.pk, split), world["gold"][split],
                              [world["preds"][name][split] for name in names])
    expected = expected_statistics(scores, [e.is_baseline for e in entries])
    assert [e.statistics for e in entries] == expected
    # The planted tie shares a group; the clear gap opens the next one.
    assert [e.statistics.get("tie_group") for e in entries] == [1, 1, 2, None, 3]
    assert entries[0].statistics["p_vs_next"] > 0.05 and entries[1].statistics["p_vs_next"] == 0.0
    assert entries[0].statistics["rank_range"] == entries[1].statistics["rank_range"] == [1, 2]
    assert entries[4].statistics["rank_range"] == [4, 4]
    # Baselines: an interval, no p-value, rank range or group.
    assert set(entries[3].statistics) == {"interval"}


def test_stored_record_is_one_float64_per_resample(world):
    record = SampleRecord.objects.filter(split="public").first()
    assert (record.resamples, record.samples, len(bytes(record.scores))) == (RESAMPLES, SAMPLES, 8 * RESAMPLES)
    assert record.seed == expected_seed(world["phase"].pk, "public")


def test_api_and_csv_carry_the_statistics(client, world):
    phase = world["phase"]
    leaderboard_statistics_refresh(phase_id=phase.pk)
    top = _board(phase, "public")[0].statistics
    body = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    first = body["entries"][0]
    assert (first["interval"], first["p_vs_next"], first["rank_range"], first["tie_group"]) == (
        top["interval"], top["p_vs_next"], top["rank_range"], top["tie_group"])
    baseline = body["entries"][3]
    assert (baseline["p_vs_next"], baseline["rank_range"], baseline["tie_group"]) == (None, None, None)
    assert baseline["interval"]["level"] == 0.95
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv").text)))
    assert (float(rows[0]["interval_low"]), float(rows[0]["interval_high"]), float(rows[0]["p_vs_next"]),
            int(rows[0]["rank_best"]), int(rows[0]["rank_worst"]), int(rows[0]["tie_group"])) == (
        top["interval"]["low"], top["interval"]["high"], top["p_vs_next"], *top["rank_range"], top["tie_group"])
    assert rows[3]["p_vs_next"] == "" and rows[3]["tie_group"] == ""
    page = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard/")
    page = page.content.decode()
    assert f"{top['interval']['low']:.4f}–{top['interval']['high']:.4f}" in page


def _marks(phase, split: str) -> set[str]:
    """Distinctive strings of a board's statistics: interval bounds and p-values."""
    marks = set()
    for e in _board(phase, split):
        stats = e.statistics
        for value in (stats["interval"]["low"], stats["interval"]["high"], stats.get("p_vs_next")):
            if value not in (None, 0.0, 1.0):
                marks |= {repr(value), f"{value:.4f}"}
    return marks


def _private_marks(phase) -> set[str]:
    """The private board's marks that the public board does not show too (a p-value of 1,000 resamples,
    e.g. 0.476, may well be both; finding it proves nothing)."""
    return _marks(phase, "private") - _marks(phase, "public")


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_hidden_split_statistics_show_nowhere_until_the_reveal(client, world, who):
    phase = world["phase"]
    leaderboard_statistics_refresh(phase_id=phase.pk)
    marks = _private_marks(phase)
    assert len(marks) >= 4
    if who == "member":
        client.force_login(world["member"])
    phase_page = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"
    api = f"/api/v1/phases/{phase.pk}/leaderboard"
    bodies = [client.get(url) for url in (
        api, f"{api}.csv", phase_page, f"{phase_page}leaderboard/", f"{phase_page}leaderboard.csv",
        f"{api}?split=private", f"{api}.csv?split=private", f"{phase_page}leaderboard/?split=private",
        f"{phase_page}leaderboard.csv?split=private")]
    assert [r.status_code for r in bodies] == [200] * 5 + [403] * 4
    for response in bodies:
        text = response.content.decode()
        assert not [mark for mark in marks if mark in text], response.request["PATH_INFO"]

    phase_reveal_results(actor=world["organiser"], phase=phase)
    leaderboard_statistics_refresh(phase_id=phase.pk)
    revealed = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private").json()["entries"]
    assert [e["interval"] for e in revealed] == [e.statistics["interval"] for e in _board(phase, "private")]
    assert any(mark in client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=private").text for mark in marks)


def test_refresh_keeps_statistics_of_an_unchanged_board_and_clears_a_changed_one(world):
    phase = world["phase"]
    leaderboard_statistics_refresh(phase_id=phase.pk)
    stamp = LeaderboardSnapshot.objects.get(phase=phase, split="public").refreshed_at
    leaderboard_refresh(phase_id=phase.pk)
    assert all(e.statistics for e in _board(phase, "public"))
    assert LeaderboardSnapshot.objects.get(phase=phase, split="public").refreshed_at == stamp
    assert leaderboard_statistics_refresh(phase_id=phase.pk)["public"] == 5
    assert LeaderboardSnapshot.objects.get(phase=phase, split="public").refreshed_at == stamp  # nothing changed
    SubmissionScore.objects.filter(submission__team__name="Delta", split="public").update(score=0.99)
    leaderboard_refresh(phase_id=phase.pk)
    assert [e.statistics for e in _board(phase, "public")] == [None] * 5
    assert json.loads(_board(phase, "public")[0].row_json).keys() >= {"rank", "score"}
    assert "p_vs_next" not in _board(phase, "public")[0].row_json


def test_tracks_without_records_get_no_statistics(world):
    phase = world["phase"]
    SampleRecord.objects.all().delete()
    assert leaderboard_statistics_refresh(phase_id=phase.pk) == {"public": 0, "private": 0}
    assert "interval" not in LeaderboardSnapshot.objects.get(phase=phase, split="public").csv


def test_lower_is_better_and_missing_records():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.1, 0.01, 200), rng.normal(0.3, 0.01, 200)
    rows = [BoardRow(0.1, False, a), BoardRow(0.2, False, None), BoardRow(0.3, False, b)]
    stats = board_statistics(rows, greater_is_better=False, alpha=0.05)
    assert stats[1] is None
    # The team without a record takes part in the ranks with its observed score: it splits a and b.
    assert stats[0]["rank_range"] == [1, 1] and stats[2]["rank_range"] == [3, 3]
    assert stats[0]["p_vs_next"] is None and (stats[0]["tie_group"], stats[2]["tie_group"]) == (1, 2)


def test_scoring_stores_the_record_and_queues_one_statistics_run(settings, django_capture_on_commit_callbacks,
                                                                  monkeypatch):
    from arena.leaderboards import services
    from arena.submissions.services import lifecycle
    from arena.submissions.services.scoring import submission_score

    sent = []
    monkeypatch.setattr(services.current_app, "send_task", lambda name, **kw: sent.append((name, kw["args"])))
    settings.ARENA_BOARD_RESAMPLES = 200
    subs = [SubmissionFactory(), None]
    subs[1] = SubmissionFactory(phase=subs[0].phase)
    for sub in subs:
        assert lifecycle.submission_mark_queued(submission_id=sub.pk)
        token = Submission.objects.values_list("claim_token", flat=True).get(pk=sub.pk)
        with django_capture_on_commit_callbacks(execute=True):
            submission_score(submission_id=sub.pk, token=token)
    records = SampleRecord.objects.filter(submission=subs[0]).order_by("split")
    # The factories' reference: s1..s3 public, s4..s5 private.
    assert [(r.split, r.resamples, r.samples, len(bytes(r.scores))) for r in records] == [
        ("private", 200, 2, 1600), ("public", 200, 3, 1600)]
    # Two scorings, one waiting run: the second joins the first.
    assert sent == [("arena.leaderboards.tasks.refresh_board_statistics", [subs[0].phase_id])]
    assert leaderboard_statistics_refresh(phase_id=subs[0].phase_id) == {"public": 2, "private": 2}
    assert not LeaderboardSnapshot.objects.filter(statistics_queued_at__isnull=False).exists()


# --- per-track board settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("world", [{"board_resamples": 200, "board_alpha": 0.2}], indirect=True)
@pytest.mark.parametrize("split", ["public", "private"])
def test_track_settings_set_resamples_and_alpha(world, split, settings):
    settings.ARENA_BOARD_RESAMPLES, settings.ARENA_BOARD_ALPHA = 1000, 0.05  # the track's own win
    phase = world["phase"]
    records = SampleRecord.objects.filter(submission__phase=phase, split=split)
    assert {(r.resamples, len(bytes(r.scores))) for r in records} == {(200, 8 * 200)}
    assert leaderboard_statistics_refresh(phase_id=phase.pk) == {"public": 5, "private": 5}
    entries = _board(phase, split)
    names = [e.team_name if not e.is_baseline else None for e in entries]
    scores = resampled_scores(expected_seed(phase.pk, split), world["gold"][split],
                              [world["preds"][name][split] for name in names], resamples=200)
    expected = expected_statistics(scores, [e.is_baseline for e in entries], alpha=0.2)
    assert [e.statistics for e in entries] == expected
    assert {e.statistics["interval"]["level"] for e in entries} == {0.8}


def test_records_of_other_resamples_than_the_tracks_are_not_used(world):
    phase = world["phase"]
    Track.objects.filter(pk=phase.track_id).update(board_resamples=200)  # the records hold 1,000 each
    assert leaderboard_statistics_refresh(phase_id=phase.pk) == {"public": 0, "private": 0}
    assert [e.statistics for e in _board(phase, "public")] == [None] * 5
    Track.objects.filter(pk=phase.track_id).update(board_resamples=None)  # back to the site's 1,000
    assert leaderboard_statistics_refresh(phase_id=phase.pk) == {"public": 5, "private": 5}


def test_board_settings_default_to_the_site_settings(settings):
    settings.ARENA_BOARD_RESAMPLES, settings.ARENA_BOARD_ALPHA = 500, 0.1
    assert board_settings(Track(board_resamples=None, board_alpha=None)) == (500, 0.1)
    assert board_settings(Track(board_resamples=300, board_alpha=0.01)) == (300, 0.01)


def _admin_form_data(response) -> dict:
    """What the track's admin page posts unchanged: its form and its inlines' forms."""
    bound = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        bound += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in bound:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[field.html_name] = [str(v) for v in value]
            elif value is not None:
                data[field.html_name] = str(value)
    return data


@pytest.mark.parametrize(("field", "value", "message"), [
    ("board_resamples", "99", "Ensure this value is greater than or equal to 100."),
    ("board_resamples", "10001", "Ensure this value is less than or equal to 10000."),
    ("board_alpha", "0.0005", "Ensure this value is greater than or equal to 0.001."),
    ("board_alpha", "0.25", "Ensure this value is less than or equal to 0.2."),
])
def test_admin_refuses_board_settings_out_of_range(client, field, value, message):
    organiser = UserFactory(username="organiser")
    track = TrackFactory(challenge=ChallengeFactory(organisers=[organiser]))  # no phase inline forms to post
    url = reverse("admin:challenges_track_change", args=[track.pk])
    client.force_login(organiser)
    response = client.post(url, {**_admin_form_data(client.get(url)), field: value})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    track.refresh_from_db()
    assert (track.board_resamples, track.board_alpha) == (None, None)


def test_admin_saves_board_settings(client):
    organiser = UserFactory(username="organiser")
    track = TrackFactory(challenge=ChallengeFactory(organisers=[organiser]))  # no phase inline forms to post
    url = reverse("admin:challenges_track_change", args=[track.pk])
    client.force_login(organiser)
    data = {**_admin_form_data(client.get(url)), "board_resamples": "200", "board_alpha": "0.2"}
    assert client.post(url, data).status_code == 302
    track.refresh_from_db()
    assert (track.board_resamples, track.board_alpha) == (200, 0.2)
    assert board_settings(track) == (200, 0.2)


def _row_versions(phase) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, xmin::text::bigint FROM {StoredEntry._meta.db_table} WHERE phase_id = %s",
                       [phase.pk])
        return dict(cursor.fetchall())


def test_a_move_hides_the_boards_statistics_without_writing_the_others_rows(world):
    phase = world["phase"]
    leaderboard_statistics_refresh(phase_id=phase.pk)
    delta = Team.objects.get(name="Delta")
    delta_public = StoredEntry.objects.get(phase=phase, split="public", team=delta).pk
    versions = _row_versions(phase)
    SubmissionScore.objects.filter(submission__team=delta, split="public").update(score=0.99)
    leaderboard_refresh(phase_id=phase.pk, team_ids=[delta.pk])
    after = _row_versions(phase)
    # Delta's public row was replaced (its private one is unchanged); every other row of both boards is as the
    # statistics run wrote it.
    assert {pk for pk, version in versions.items() if after.get(pk) != version} == {delta_public}
    assert len(set(after) - set(versions)) == 1
    public = _board(phase, "public")
    assert [e.team_name for e in public][:1] == ["Delta"]
    assert [e.statistics for e in public] == [None] * 5
    assert all(e.row_json == entry_row_json(e) and '"interval"' not in e.row_json for e in public)
    assert all(e.statistics for e in _board(phase, "private"))  # the private board did not change
    assert LeaderboardSnapshot.objects.get(phase=phase, split="public").statistics_refreshed_at is None
    assert leaderboard_statistics_refresh(phase_id=phase.pk)["public"] == 5
    assert all(e.statistics and e.row_json == entry_row_json(e) for e in _board(phase, "public"))


def test_statistics_stored_before_a_change_and_computed_again_are_shown_without_rewriting_the_rows(world):
    phase = world["phase"]
    leaderboard_statistics_refresh(phase_id=phase.pk)
    shown = [(e.statistics, e.row_json) for e in _board(phase, "public")]
    # As a change of the board that a later one undid leaves it: the order as it was, its statistics hidden.
    LeaderboardSnapshot.objects.filter(phase=phase, split="public").update(statistics_refreshed_at=None)
    assert [e.statistics for e in _board(phase, "public")] == [None] * 5
    versions = _row_versions(phase)
    assert leaderboard_statistics_refresh(phase_id=phase.pk)["public"] == 5
    assert _row_versions(phase) == versions
    assert [(e.statistics, e.row_json) for e in _board(phase, "public")] == shown
    assert LeaderboardSnapshot.objects.get(phase=phase, split="public").statistics_refreshed_at is not None
