"""Leaderboard rules: best or selected entry per team, ties, tie-breaks, baselines, reveal, CSV."""

from datetime import timedelta

import pytest
from django.utils import timezone

from arena.challenges.models import BoardVisibility, EntryRule
from arena.challenges.services import phase_reveal_results
from arena.core.errors import Conflict, PermissionDenied
from arena.leaderboards.exports import leaderboard_csv
from arena.leaderboards.models import LeaderboardEntry
from arena.leaderboards.selectors import leaderboard_for_phase
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services.actions import submission_disqualify, submission_select
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def phase():
    organiser = UserFactory(username="organiser")
    return PhaseFactory(track__scorer_key="mer.multi", track__tie_break_metrics=["mse"],
                        track__challenge__organisers=[organiser])


_clock = [0]


def scored(phase, team, public, private, *, mse=0.1, baseline=False, method=None) -> Submission:
    """A scored submission with given scores (submitted one minute after the previous one)."""
    _clock[0] += 1
    sub = SubmissionFactory(phase=phase, team=None if baseline else team, is_baseline=baseline,
                            status=SubmissionStatus.SCORED, method_name=method or f"m{_clock[0]}")
    Submission.objects.filter(pk=sub.pk).update(created_at=timezone.now() + timedelta(minutes=_clock[0]))
    for split, score in (("public", public), ("private", private)):
        if score is not None:
            SubmissionScore.objects.create(submission=sub, split=split, score=score,
                                           metrics={"waf": score, "mse": mse})
    return sub


def board(phase, split="public"):
    return [(e.rank, e.team_name or "baseline", e.score) for e in
            LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position")]


def test_best_entry_per_team_and_competition_ranks(phase):
    a, b, c, d = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "ABCD")
    scored(phase, a, 0.5, 0.1)
    scored(phase, a, 0.8, 0.2)
    scored(phase, b, 0.8, 0.9)
    scored(phase, c, 0.7, 0.7)
    scored(phase, d, 0.9, 0.3, mse=0.5)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase) == [(1, "D", 0.9), (2, "A", 0.8), (2, "B", 0.8), (4, "C", 0.7)]
    assert LeaderboardEntry.objects.get(phase=phase, split="public", team_name="A").entries_count == 2


def test_tie_break_metric_orders_equal_scores_lower_mse_first(phase):
    a, b = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "AB")
    scored(phase, a, 0.8, 0.5, mse=0.3)
    scored(phase, b, 0.8, 0.5, mse=0.1)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase) == [(1, "B", 0.8), (2, "A", 0.8)]


def test_baselines_are_placed_by_score_marked_and_unranked(phase):
    a, b = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "AB")
    scored(phase, a, 0.9, 0.5)
    scored(phase, None, 0.6, 0.6, baseline=True)
    scored(phase, b, 0.4, 0.5)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase) == [(1, "A", 0.9), (None, "baseline", 0.6), (2, "B", 0.4)]
    assert LeaderboardEntry.objects.get(phase=phase, split="public", is_baseline=True).method_name


def test_private_board_uses_the_best_public_entry_and_shows_public_rank(phase):
    a, b = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "AB")
    scored(phase, a, 0.9, 0.2)   # A's best public entry is weak in private
    scored(phase, a, 0.5, 0.99)  # a better private score must not be picked (that would leak it)
    scored(phase, b, 0.8, 0.6)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase, "private") == [(1, "B", 0.6), (2, "A", 0.2)]
    assert [e.public_rank for e in LeaderboardEntry.objects.filter(phase=phase, split="private")
            .order_by("position")] == [2, 1]


def test_private_board_is_hidden_until_reveal(phase):
    participant = UserFactory()
    organiser = phase.track.challenge.organisers.get()
    with pytest.raises(PermissionDenied, match="hidden until the organisers reveal"):
        leaderboard_for_phase(phase=phase, split="private", user=participant)
    leaderboard_for_phase(phase=phase, split="private", user=organiser)  # organisers always may
    phase_reveal_results(actor=organiser, phase=phase)
    leaderboard_for_phase(phase=phase, split="private", user=participant)


def test_selected_mode_takes_the_best_private_among_selected(phase):
    track = phase.track
    phase.entry_rule, phase.max_selected = EntryRule.SELECTED, 2
    phase.save()
    user = UserFactory()
    a = TeamFactory(challenge=track.challenge, name="A", members=[user])
    first = scored(phase, a, 0.9, 0.3)
    second = scored(phase, a, 0.6, 0.7)
    third = scored(phase, a, 0.5, 0.95)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase, "private") == [(1, "A", 0.3)]  # nothing selected: best public entry
    submission_select(user=user, submission=second, selected=True)
    submission_select(user=user, submission=first, selected=True)
    assert board(phase, "private") == [(1, "A", 0.7)]
    with pytest.raises(Conflict, match="at most 2 final entries"):
        submission_select(user=user, submission=third, selected=True)
    assert board(phase) == [(1, "A", 0.9)]  # the public board still shows the best public entry


def test_disqualified_entries_leave_the_board_with_a_reason(phase):
    a, b = (TeamFactory(challenge=phase.track.challenge, name=n) for n in "AB")
    cheat = scored(phase, a, 0.99, 0.99)
    scored(phase, a, 0.5, 0.5)
    scored(phase, b, 0.7, 0.7)
    organiser = phase.track.challenge.organisers.get()
    assert submission_disqualify(actor=organiser, submissions=[cheat], reason="Used test labels") == 1
    assert board(phase) == [(1, "B", 0.7), (2, "A", 0.5)]
    cheat.refresh_from_db()
    assert cheat.disqualified_reason == "Used test labels"


def test_failed_and_unscored_submissions_are_not_on_the_board(phase):
    a = TeamFactory(challenge=phase.track.challenge, name="A")
    sub = scored(phase, a, 0.9, 0.9)
    Submission.objects.filter(pk=sub.pk).update(status=SubmissionStatus.FAILED)
    SubmissionFactory(phase=phase, team=a, status=SubmissionStatus.QUEUED)
    leaderboard_refresh(phase_id=phase.pk)
    assert board(phase) == []


def test_csv_export_has_every_metric_and_exact_values(phase):
    a = TeamFactory(challenge=phase.track.challenge, name="Team, with comma")
    scored(phase, a, 0.123456789012345, 0.5, mse=0.25, method="wav2vec")
    scored(phase, None, 0.1, 0.1, baseline=True, method="Baseline")
    leaderboard_refresh(phase_id=phase.pk)
    text = leaderboard_csv(LeaderboardEntry.objects.filter(phase=phase, split="private").order_by("position"),
                           metric_names=["waf", "mse"], split="private")
    lines = text.splitlines()
    assert lines[0] == "rank,public_rank,team,method,baseline,score,waf,mse,entries,submitted_at,submission_id"
    assert lines[1].startswith('1,1,"Team, with comma",wav2vec,,0.5,0.5,0.25,1,')
    assert lines[2].startswith(",,,Baseline,yes,0.1,0.1,0.1,1,")


def test_a_refresh_replaces_the_stored_rows(phase):
    a = TeamFactory(challenge=phase.track.challenge, name="A")
    scored(phase, a, 0.5, 0.5)
    leaderboard_refresh(phase_id=phase.pk)
    scored(phase, a, 0.6, 0.6)
    assert leaderboard_refresh(phase_id=phase.pk) == {"public": 1, "private": 1}
    assert board(phase) == [(1, "A", 0.6)]


def test_reads_send_the_stored_snapshot_without_ranking(client, phase, django_assert_max_num_queries):
    teams = [TeamFactory(challenge=phase.track.challenge, name=f"T{i}") for i in range(30)]
    for i, team in enumerate(teams):
        scored(phase, team, i / 100, 0.5)
    leaderboard_refresh(phase_id=phase.pk)
    with django_assert_max_num_queries(4):
        body = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    assert [e["team_name"] for e in body["entries"][:3]] == ["T29", "T28", "T27"]
    top = Submission.objects.get(team=teams[29])
    assert body["entries"][0] == {
        "rank": 1, "public_rank": None, "position": 1, "team_name": "T29", "method_name": top.method_name,
        "is_baseline": False, "score": 0.29, "metrics": {"waf": 0.29, "mse": 0.1}, "entries_count": 1,
        "submitted_at": top.created_at.isoformat().replace("+00:00", "Z"), "submission": top.pk, "answers": {},
        "conditions": {},
    }
    assert body["primary_metric"] == "combined" and body["tie_break_metrics"] == ["mse"]
    with django_assert_max_num_queries(4):
        assert client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv").content.count(b"\n") == 31


@pytest.mark.parametrize("rule", list(EntryRule))
@pytest.mark.parametrize("visibility", [BoardVisibility.LIVE, BoardVisibility.FROZEN])
def test_refreshing_one_team_at_a_time_equals_a_full_refresh(phase, rule, visibility):
    import random

    track = phase.track
    phase.entry_rule, phase.max_selected = rule, 2
    phase.board_visibility = BoardVisibility.HIDDEN if rule == EntryRule.BEST_HIDDEN else visibility
    if visibility == BoardVisibility.FROZEN:  # half the entries below come after the freeze
        phase.frozen_at = timezone.now() + timedelta(minutes=_clock[0] + 30)
    phase.save()
    rng = random.Random(5)
    teams = [TeamFactory(challenge=track.challenge, name=f"T{i}") for i in range(8)]
    for _ in range(60):
        team = rng.choice(teams + [None])
        # Coarse scores make ties common, which exercises shared ranks and tie-breaks.
        sub = scored(phase, team, rng.randint(0, 5) / 5, rng.randint(0, 5) / 5, mse=rng.randint(0, 2) / 2,
                     baseline=team is None)
        if team is not None and rng.random() < 0.3:
            Submission.objects.filter(pk=sub.pk).update(is_selected=True)
        leaderboard_refresh(phase_id=phase.pk, team_ids=[team.pk if team else None])
    fields = ("split", "position", "rank", "public_rank", "submission_id", "score", "entries_count", "row_json")
    incremental = list(LeaderboardEntry.objects.filter(phase=phase).order_by("split", "position").values_list(*fields))
    leaderboard_refresh(phase_id=phase.pk)
    full = list(LeaderboardEntry.objects.filter(phase=phase).order_by("split", "position").values_list(*fields))
    assert incremental == full
    assert len(full) > 16
