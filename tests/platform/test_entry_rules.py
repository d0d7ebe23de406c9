"""Which entry of a team counts, per phase: best public, selected, last, best on the hidden split;
phases scored on a hidden split only; the admin's rules for combining them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils import timezone

from arena.challenges.models import BoardVisibility, EntryRule
from arena.core.errors import DomainError
from arena.leaderboards.models import LeaderboardEntry
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.actions import submission_select
from arena.submissions.services.scoring import submission_score
from tests.platform.factories import LicenceFactory, PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _phase(rule=EntryRule.BEST_PUBLIC, visibility=BoardVisibility.LIVE, **kwargs):
    phase = PhaseFactory(track__tie_break_metrics=[], entry_rule=rule,
                         board_visibility=visibility, **kwargs)
    return phase


def _entries(phase, team, scores):
    """Scored submissions, one minute apart in the order given: (public, private) per entry."""
    start = timezone.now() - timedelta(hours=1)
    made = []
    for minute, (public, private) in enumerate(scores):
        sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name=f"m{minute}")
        Submission.objects.filter(pk=sub.pk).update(created_at=start + timedelta(minutes=minute))
        for split, score in (("public", public), ("private", private)):
            if score is not None:
                SubmissionScore.objects.create(submission=sub, split=split, score=score, metrics={"waf": score})
        made.append(sub)
    return made


def _board(phase, split):
    return [(e.team_name, e.method_name, e.score, e.entries_count)
            for e in LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position")]


def test_best_public_entry_counts_with_its_private_score():
    phase = _phase()
    team = TeamFactory(challenge=phase.track.challenge, name="A")
    _entries(phase, team, [(0.6, 0.9), (0.8, 0.2), (0.7, 0.95)])
    leaderboard_refresh(phase_id=phase.pk)
    assert _board(phase, "public") == [("A", "m1", 0.8, 3)]
    assert _board(phase, "private") == [("A", "m1", 0.2, 3)]  # never chosen by its private score


def test_last_entry_counts_on_every_board_even_when_worse():
    phase = _phase(EntryRule.LAST)
    a, b = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "AB")
    _entries(phase, a, [(0.9, 0.9), (0.3, 0.4)])
    _entries(phase, b, [(0.5, 0.5)])
    leaderboard_refresh(phase_id=phase.pk)
    assert _board(phase, "public") == [("B", "m0", 0.5, 1), ("A", "m1", 0.3, 2)]
    assert _board(phase, "private") == [("B", "m0", 0.5, 1), ("A", "m1", 0.4, 2)]


@override_settings(ARENA_BEST_HIDDEN_MAX_TOTAL=5)
def test_best_on_the_hidden_split_takes_the_best_private_score():
    phase = _phase(EntryRule.BEST_HIDDEN, BoardVisibility.HIDDEN, max_total=3)
    phase.full_clean()
    team = TeamFactory(challenge=phase.track.challenge, name="A")
    _entries(phase, team, [(0.9, 0.3), (0.1, 0.8), (0.5, 0.5)])
    leaderboard_refresh(phase_id=phase.pk)
    assert _board(phase, "private") == [("A", "m1", 0.8, 3)]
    assert _board(phase, "public") == [("A", "m0", 0.9, 3)]


def test_selected_entries_fall_back_to_the_last_entry_without_a_public_split():
    phase = _phase(EntryRule.SELECTED, reference_public="", max_selected=2)
    user = UserFactory()
    team = TeamFactory(challenge=phase.track.challenge, name="A", members=[user])
    first, second, third = _entries(phase, team, [(None, 0.9), (None, 0.2), (None, 0.5)])
    leaderboard_refresh(phase_id=phase.pk)
    assert _board(phase, "public") == []
    assert _board(phase, "private") == [("A", "m2", 0.5, 3)]  # nothing selected: the last entry
    submission_select(user=user, submission=first, selected=True)
    submission_select(user=user, submission=second, selected=True)
    assert _board(phase, "private") == [("A", "m0", 0.9, 3)]


def test_selecting_is_refused_where_the_phase_does_not_use_selections():
    phase = _phase(EntryRule.LAST)
    user = UserFactory()
    team = TeamFactory(challenge=phase.track.challenge, name="A", members=[user])
    (sub,) = _entries(phase, team, [(0.5, 0.5)])
    with pytest.raises(DomainError) as refused:
        submission_select(user=user, submission=sub, selected=True)
    assert (refused.value.code, refused.value.message) == (
        "selection_not_used", "In this phase the team's last scored entry counts; there is nothing to select.")
    assert not Submission.objects.get(pk=sub.pk).is_selected


def test_a_phase_with_only_a_private_reference_is_scored_on_it_alone():
    phase = _phase(EntryRule.LAST, reference_public="")
    sub = SubmissionFactory(phase=phase, team=TeamFactory(challenge=phase.track.challenge, name="A"),
                            file=ContentFile(b"name,discrete\ns4,neutral\ns5,sad\n", name="predictions.csv"))
    assert lifecycle.submission_mark_queued(submission_id=sub.pk)
    token = Submission.objects.values_list("claim_token", flat=True).get(pk=sub.pk)
    status = submission_score(submission_id=sub.pk, token=token)
    assert (status, Submission.objects.get(pk=sub.pk).error_message) == (SubmissionStatus.SCORED, "")
    # s4 neutral -> neutral (F1 1), s5 worried -> sad (F1 0): weighted F1 0.5.
    assert dict(SubmissionScore.objects.filter(submission=sub).values_list("split", "score")) == {"private": 0.5}
    assert _board(phase, "private") == [("A", sub.method_name, 0.5, 1)]
    assert _board(phase, "public") == []


def _clean_errors(phase) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        phase.full_clean()
    return refused.value.message_dict


@override_settings(ARENA_BEST_HIDDEN_MAX_TOTAL=5)
def test_best_on_the_hidden_split_needs_a_hidden_board_and_a_small_total_limit():
    phase = _phase(max_total=None)
    phase.track.max_total = 100
    phase.entry_rule = EntryRule.BEST_HIDDEN
    errors = _clean_errors(phase)
    assert errors["max_total"] == [
        '"Best on the hidden split" lets each team fit the hidden split with every entry, so it needs a total '
        "limit of at most 5 (ARENA_BEST_HIDDEN_MAX_TOTAL); this phase allows 100. Set a smaller total limit, "
        "or choose another rule."]
    assert errors["__all__"] == ['"Best on the hidden split" needs a hidden board: with scores shown, teams could '
                                 "pick entries by them."]
    phase.max_total, phase.board_visibility = 5, BoardVisibility.HIDDEN
    phase.full_clean()


def test_best_public_needs_a_public_reference_and_a_frozen_board_its_time():
    phase = _phase(reference_public="")
    assert _clean_errors(phase)["entry_rule"] == [
        "This phase has no public reference, so there is no best public entry; choose the last entry, selected "
        "entries or the best on the hidden split."]
    phase = _phase(visibility=BoardVisibility.LIVE)
    phase.board_visibility = BoardVisibility.FROZEN
    assert _clean_errors(phase)["frozen_at"] == ["A frozen board needs the time it freezes."]
    phase.frozen_at = phase.closes_at + timedelta(days=1)
    assert _clean_errors(phase)["__all__"] == [
        "A frozen board needs a freeze time between the phase's opening and closing."]
    phase.frozen_at = phase.closes_at - timedelta(days=1)
    phase.full_clean()


def _admin_post(client, phase, **changes):
    data = {
        "track": phase.track_id, "title": phase.title, "slug": phase.slug, "kind": phase.kind, "order": phase.order,
        "opens_at_0": f"{phase.opens_at:%Y-%m-%d}", "opens_at_1": f"{phase.opens_at:%H:%M:%S}",
        "closes_at_0": f"{phase.closes_at:%Y-%m-%d}", "closes_at_1": f"{phase.closes_at:%H:%M:%S}",
        "board_visibility": phase.board_visibility, "entry_rule": phase.entry_rule,
        "max_selected": phase.max_selected, "max_total": "" if phase.max_total is None else phase.max_total,
        "max_per_day": "", "max_in_flight": "", "max_refused_per_hour": "", "frozen_at_0": "", "frozen_at_1": "",
        "questions-TOTAL_FORMS": 0, "questions-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return client.post(f"/admin/challenges/phase/{phase.pk}/change/", data)


@override_settings(ARENA_BEST_HIDDEN_MAX_TOTAL=5)
def test_the_admin_refuses_a_bad_rule_unchanged_and_re_ranks_on_a_good_one(admin_client):
    phase = _phase()
    # A ready challenge: an opened phase then saves without an override.
    LicenceFactory(challenge=phase.track.challenge)
    challenge = phase.track.challenge
    challenge.starts_at = phase.opens_at - timedelta(minutes=1)
    challenge.save()
    team = TeamFactory(challenge=phase.track.challenge, name="A")
    _entries(phase, team, [(0.9, 0.3), (0.1, 0.8)])
    leaderboard_refresh(phase_id=phase.pk)
    refused = _admin_post(admin_client, phase, entry_rule="best_hidden", board_visibility="hidden", max_total=6)
    assert refused.status_code == 200
    assert "needs a total limit of at most 5 (ARENA_BEST_HIDDEN_MAX_TOTAL); this phase allows 6." in refused.text
    phase.refresh_from_db()
    assert (phase.entry_rule, phase.board_visibility, phase.max_total) == ("best_public", "live", None)
    assert _board(phase, "private") == [("A", "m0", 0.3, 2)]
    saved = _admin_post(admin_client, phase, entry_rule="best_hidden", board_visibility="hidden", max_total=3)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert _board(phase, "private") == [("A", "m1", 0.8, 2)]  # the whole board follows the new rule at once


@override_settings(ARENA_BEST_HIDDEN_MAX_TOTAL=5)
def test_the_phase_page_and_api_say_both_rules_in_words(client):
    phase = _phase(EntryRule.BEST_HIDDEN, BoardVisibility.HIDDEN, max_total=3, reveal_at_close=True)
    page = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/").text
    entry = "Your team&#x27;s best entry on the hidden split counts (at most 3 in total)."
    board = ("Blind phase: scores and leaderboards stay hidden until the results are revealed automatically when "
             f"the phase closes ({phase.closes_at:%Y-%m-%d %H:%M} UTC); you see whether each of your submissions "
             "is scored.")
    assert f'<li id="entry-rule">{entry}</li>' in page
    assert f'<li id="board-rule">{board}</li>' in page
    body = client.get(f"/api/v1/phases/{phase.pk}").json()
    assert (body["entry_rule"], body["board_visibility"], body["reveal_at_close"], body["board_rule"],
            body["entry_rule_text"]) == ("best_hidden", "hidden", True, board, entry.replace("&#x27;", "'"))


def test_the_beat_runs_the_automatic_reveal():
    from django.conf import settings

    from arena.config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["reveal-closed-phases"]
    app.loader.import_default_modules()
    assert entry["task"] == "arena.challenges.tasks.reveal_closed_phases" and entry["task"] in app.tasks
    assert entry["schedule"] == float(settings.ARENA_REVEAL_SECONDS) == 60.0
