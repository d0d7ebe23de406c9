"""Moving one team's entry in place equals ranking the whole board again, and costs work near the move only.

After every event of many seeded sequences (new scores for random teams, ties, tie-breaks, baselines, a worse
entry that does not count, selections, fact-sheet answers, statistics, disqualifications, re-runs, a board
that freezes), the boards kept by ``leaderboard_refresh(team_ids=...)`` equal, field by field, row JSON and
CSV as read included, what a full ``leaderboard_refresh`` computes from the same data; both refresh the
same boards' times and clear the same statistics.
"""

from __future__ import annotations

import importlib
import json
import random
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arena.challenges.models import BoardVisibility, EntryRule
from arena.factsheets.models import Answer, Question
from arena.leaderboards import services
from arena.leaderboards.exports import entry_row_json, snapshot_csv
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, StoredEntry
from arena.leaderboards.ranking import order_key, rank_key
from arena.leaderboards.services import leaderboard_refresh, leaderboard_statistics_refresh
from arena.submissions.models import Submission, SubmissionScore, SubmissionStatus
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

FIELDS = ("split", "position", "rank", "public_rank", "submission_id", "team_id", "is_baseline", "score", "metrics",
          "conditions", "team_name", "method_name", "submitted_at", "entries_count", "answers", "statistics",
          "row_json")


class _Undo(Exception):
    pass


def _boards(phase) -> dict:
    """Everything a reader can get of the phase's stored boards (besides the refresh times)."""
    entries = list(LeaderboardEntry.objects.filter(phase=phase).order_by("split", "position"))
    rows = [tuple(getattr(e, f) for f in FIELDS) + (bytes(e.rank_key), bytes(e.order_key)) for e in entries]
    # The stored API row is the row rendered from the entry's fields now.
    assert [e.row_json for e in entries] == [entry_row_json(e) for e in entries]
    for split in {e.split for e in entries}:
        on_board = [e for e in entries if e.split == split]
        assert [e.position for e in on_board] == list(range(1, len(on_board) + 1))
    snapshots = {s.split: (s.rows, s.statistics_refreshed_at is None, snapshot_csv(snapshot_id=s.pk))
                 for s in LeaderboardSnapshot.objects.filter(phase=phase)}
    return {"rows": rows, "api": [json.loads(e.row_json) for e in entries], "snapshots": snapshots}


def _times(phase) -> dict:
    return {s.split: (s.refreshed_at, s.statistics_refreshed_at)
            for s in LeaderboardSnapshot.objects.filter(phase=phase)}


def _moved(before: dict, after: dict) -> dict:
    return {split: (before.get(split, (None,))[0] != times[0], times[1] is None) for split, times in after.items()}


def _refresh_both_ways(phase, team_ids) -> None:
    """Refresh incrementally; assert it equals a full refresh from the same stored state."""
    before = _times(phase)
    try:
        with transaction.atomic():
            leaderboard_refresh(phase_id=phase.pk)
            full, full_moved = _boards(phase), _moved(before, _times(phase))
            raise _Undo
    except _Undo:
        pass
    assert _times(phase) == before
    leaderboard_refresh(phase_id=phase.pk, team_ids=team_ids)
    incremental, moved = _boards(phase), _moved(before, _times(phase))
    assert incremental["rows"] == full["rows"]
    assert incremental["api"] == full["api"]
    assert incremental["snapshots"] == full["snapshots"]
    assert moved == full_moved


def _statistics(rows, *, greater_is_better, alpha):
    """Statistics of a made-up kind, distinct per row and board size: the storing path is what is tested."""
    return [{"interval": {"low": i / 10, "high": i / 10 + 0.5, "level": 1 - alpha}}
            if row.is_baseline else {"interval": {"low": 0.0, "high": 1.0, "level": 1 - alpha}, "p_vs_next": 0.5,
                                     "rank_range": [1, len(rows)], "tie_group": i}
            for i, row in enumerate(rows)]


class World:
    def __init__(self, phase, rng: random.Random):
        self.phase, self.rng = phase, rng
        self.teams = [TeamFactory(challenge=phase.track.challenge, name=f"T{i}") for i in range(7)]
        self.minute = 0
        self.start = timezone.now()
        self.question = Question.objects.create(phase=phase, key="data", text="Data?", on_leaderboard=True)

    def submit(self, team, *, baseline=False):
        rng = self.rng
        if rng.random() > 0.15:  # now and then two entries at the same moment: the submission id decides
            self.minute += 1
        # Coarse scores make ties common, which exercises shared ranks and tie-breaks.
        public = rng.randint(0, 5) / 5 if rng.random() > 0.1 else None
        private = rng.randint(0, 5) / 5 if rng.random() > 0.1 or public is None else None
        sub = SubmissionFactory(phase=self.phase, team=None if baseline else team, is_baseline=baseline,
                                status=SubmissionStatus.SCORED, method_name=f"m{self.minute}")
        Submission.objects.filter(pk=sub.pk).update(created_at=self.start + timedelta(minutes=self.minute))
        mse = rng.randint(0, 2) / 2
        for split, score in (("public", public), ("private", private)):
            if score is not None:
                SubmissionScore.objects.create(submission=sub, split=split, score=score,
                                               metrics={"waf": score, "mse": mse})
        if rng.random() < 0.3:
            Answer.objects.create(submission=sub, question=self.question, value=rng.choice(["yes", "no", "=1+1"]))
        if team is not None and rng.random() < 0.3:
            Submission.objects.filter(pk=sub.pk).update(is_selected=True)
        return sub

    def scored(self):
        return Submission.objects.filter(phase=self.phase, status=SubmissionStatus.SCORED,
                                         disqualified_at__isnull=True).order_by("pk")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rule", list(EntryRule))
@pytest.mark.parametrize("visibility", [BoardVisibility.LIVE, BoardVisibility.FROZEN])
def test_moving_entries_in_place_equals_a_full_refresh(rule, visibility, seed, monkeypatch):
    monkeypatch.setattr(services, "board_statistics", _statistics)
    start = timezone.now()
    phase = PhaseFactory(track__scorer_key="mer.multi", track__tie_break_metrics=["mse"],
                         track__challenge__organisers=[UserFactory()], entry_rule=rule, max_selected=2,
                         board_visibility=BoardVisibility.HIDDEN if rule == EntryRule.BEST_HIDDEN else visibility,
                         # Frozen from the start: about half the entries below come after the freeze.
                         frozen_at=start + timedelta(minutes=15) if visibility == BoardVisibility.FROZEN else None)
    rng = random.Random(f"{rule}-{visibility}-{seed}")
    world = World(phase, rng)
    world.start = start
    # A live board may freeze on the way.
    freeze_after = rng.randint(10, 30) if phase.board_visibility == BoardVisibility.LIVE else None
    events = 0
    while events < 45:
        kind = rng.choices(["score", "baseline", "select", "statistics", "disqualify", "rerun", "freeze"],
                           weights=[30, 3, 4, 3, 1, 1, 1 if freeze_after else 0])[0]
        if kind == "score":
            team = rng.choice(world.teams)
            world.submit(team)
            _refresh_both_ways(phase, [team.pk])
        elif kind == "baseline":
            world.submit(None, baseline=True)
            _refresh_both_ways(phase, [None])
        elif kind == "select":
            candidates = list(world.scored().filter(is_baseline=False))
            if not candidates:
                continue
            sub = rng.choice(candidates)
            Submission.objects.filter(pk=sub.pk).update(is_selected=not sub.is_selected)
            _refresh_both_ways(phase, [sub.team_id])
        elif kind == "statistics":
            leaderboard_statistics_refresh(phase_id=phase.pk)
        elif kind == "disqualify":  # organiser actions rank every team again
            candidates = list(world.scored())
            if not candidates:
                continue
            Submission.objects.filter(pk=rng.choice(candidates).pk).update(disqualified_at=timezone.now())
            leaderboard_refresh(phase_id=phase.pk)
        elif kind == "rerun":
            score = SubmissionScore.objects.filter(submission__phase=phase).order_by("?").first()
            if score is None:
                continue
            score.score = rng.randint(0, 5) / 5
            score.save()
            leaderboard_refresh(phase_id=phase.pk)
        elif kind == "freeze" and phase.frozen_at is None and events >= freeze_after:
            # The board freezes between two entries; the next scoring ranks the frozen board in full once.
            phase.board_visibility, phase.frozen_at = BoardVisibility.FROZEN, world.start + timedelta(
                minutes=world.minute, seconds=30)
            phase.save()
        events += 1
    assert LeaderboardEntry.objects.filter(phase=phase, split="public").count() >= 5


def test_the_board_freezing_ranks_it_in_full_once():
    phase = PhaseFactory(track__scorer_key="mer.multi")
    world = World(phase, random.Random(3))
    for team in world.teams:
        world.submit(team)
        _refresh_both_ways(phase, [team.pk])
    assert not LeaderboardSnapshot.objects.filter(phase=phase, split="frozen").exists()
    phase.board_visibility = BoardVisibility.FROZEN
    phase.frozen_at = world.start + timedelta(minutes=world.minute, seconds=30)
    phase.save()
    for team in world.teams:
        world.submit(team)
        _refresh_both_ways(phase, [team.pk])
    assert LeaderboardEntry.objects.filter(phase=phase, split="frozen").count() == len(world.teams)


def test_keys_order_as_the_ranking_does():
    values = [float("-inf"), -1e300, -2.5, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1e-300, 0.5, 1.0, 1e300, float("inf")]
    for a in values:
        for b in values:
            assert ((a,) < (b,)) == (rank_key((a,)) > rank_key((b,))), (a, b)
            assert ((a,) == (b,)) == (rank_key((a,)) == rank_key((b,))), (a, b)
    now = timezone.now()
    assert order_key(rank_key((1.0,)), now, 5) < order_key(rank_key((1.0,)), now, 6) < order_key(
        rank_key((1.0,)), now + timedelta(microseconds=1), 1) < order_key(rank_key((0.5,)), now, 1)


def _board_of(size: int):
    phase = PhaseFactory(track__scorer_key="mer.multi", track__tie_break_metrics=["mse"])
    teams = []
    start = timezone.now()
    for i in range(size):
        team = TeamFactory(challenge=phase.track.challenge, name=f"T{i}")
        sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
        Submission.objects.filter(pk=sub.pk).update(created_at=start + timedelta(seconds=i))
        for split in ("public", "private"):
            SubmissionScore.objects.create(submission=sub, split=split, score=i / size, metrics={"mse": 0.1})
        teams.append(team)
    leaderboard_refresh(phase_id=phase.pk)
    return phase, teams


def _row_versions(phase) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmin::text::bigint FROM leaderboards_leaderboardentry WHERE phase_id = %s",
                       [phase.pk])
        return dict(cursor.fetchall())


def _scored(phase, team, score: float, mse: float = 0.1):
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    for split in ("public", "private"):
        SubmissionScore.objects.create(submission=sub, split=split, score=score, metrics={"mse": mse})
    return sub


@pytest.mark.parametrize("move", ["three places", "to the top", "a new team"])
def test_a_move_writes_the_movers_rows_only(move):
    queries_by_size = {}
    for size in (40, 200):
        phase, teams = _board_of(size)
        mover = teams[size // 2]  # at position size/2 + 1 on both boards
        if move == "three places":
            score = (size // 2 + 3.5) / size
        elif move == "to the top":
            score = 2.0
        else:
            mover = TeamFactory(challenge=phase.track.challenge, name="new")
            score = (size // 2 + 0.5) / size  # between the teams now at positions size/2 and size/2 + 1
        _scored(phase, mover, score)
        versions = _row_versions(phase)
        old = set(StoredEntry.objects.filter(phase=phase, team=mover).values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            leaderboard_refresh(phase_id=phase.pk, team_ids=[mover.pk])
        after = _row_versions(phase)
        # Its old rows are gone and two new ones written; no other row of either board was written.
        assert {pk for pk, version in versions.items() if after.get(pk) != version} == old
        assert len(set(after) - set(versions)) == 2
        queries_by_size[size] = len(queries)
        ranks = list(LeaderboardEntry.objects.filter(phase=phase, split="private").order_by("position")
                     .values_list("rank", "public_rank", "team_id"))
        at = {"three places": size - size // 2 - 3, "to the top": 1, "a new team": size - size // 2}[move]
        assert ranks[at - 1] == (at, at, mover.pk)
        assert [r[0] for r in ranks] == list(range(1, len(ranks) + 1)) == [r[1] for r in ranks]
    # The same statements whatever the size of the board and the distance moved.
    assert queries_by_size[40] == queries_by_size[200] == (11 if move == "a new team" else 13)


@pytest.mark.parametrize("size", [40, 200])
def test_a_worse_entry_rewrites_only_the_teams_rows_where_they_stand(size):
    phase, teams = _board_of(size)
    team = teams[size // 2]
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name="worse")
    for split in ("public", "private"):
        SubmissionScore.objects.create(submission=sub, split=split, score=0.0, metrics={"mse": 0.9})
    stored = {split: LeaderboardEntry.objects.get(phase=phase, split=split, team=team)
              for split in ("public", "private")}
    versions = _row_versions(phase)
    with CaptureQueriesContext(connection) as queries:
        leaderboard_refresh(phase_id=phase.pk, team_ids=[team.pk])
    after = _row_versions(phase)
    # Only its entry count changed: its two rows are rewritten where they are (same ids), nothing else moves.
    assert {pk for pk, version in versions.items() if after.get(pk) != version} == {e.pk for e in stored.values()}
    assert len(queries) == 10  # whatever the size of the board
    for split, before in stored.items():
        entry = LeaderboardEntry.objects.get(pk=before.pk)
        assert (entry.submission_id, entry.position, entry.rank, entry.public_rank, entry.entries_count) == (
            before.submission_id, size - size // 2, size - size // 2, size - size // 2 if split == "private" else None,
            2)
        assert json.loads(entry.row_json) == {**json.loads(before.row_json), "entries_count": 2}
        assert entry.row_json == entry_row_json(entry)


def test_going_back_to_stored_places_stores_the_places_the_view_reads():
    migration = importlib.import_module("arena.leaderboards.migrations.0009_places_read_from_the_order")
    phase, teams = _board_of(6)
    # A tie, a baseline and a team without a private row: shared ranks, an unranked row, a missing public rank.
    _scored(phase, teams[1], 5 / 6)
    baseline = SubmissionFactory(phase=phase, team=None, is_baseline=True, status=SubmissionStatus.SCORED)
    SubmissionScore.objects.create(submission=baseline, split="public", score=0.5, metrics={"mse": 0.1})
    SubmissionScore.objects.create(submission=baseline, split="private", score=0.5, metrics={"mse": 0.1})
    SubmissionScore.objects.filter(submission__team=teams[2], split="private").delete()
    leaderboard_refresh(phase_id=phase.pk)
    read = {e.pk: (e.position, e.rank, e.public_rank) for e in LeaderboardEntry.objects.filter(phase=phase)}
    # The tie shares rank 1; the baseline (submitted before the team of equal score) has none.
    assert list(LeaderboardEntry.objects.filter(phase=phase, split="public").order_by("position").values_list(
        "rank", flat=True)) == [1, 1, 3, None, 4, 5, 6]
    assert sum(public_rank is None for _, _, public_rank in read.values()) == 7 + 1  # public rows, the baseline
    table = StoredEntry._meta.db_table
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending checks, before the table changes
                for column in ("position", "rank", "public_rank"):
                    cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} integer")
            migration._store_places(None, SimpleNamespace(connection=connection,
                                                         execute=lambda sql: connection.cursor().execute(sql)))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id, position, rank, public_rank FROM {table} WHERE phase_id = %s",
                               [phase.pk])
                stored = {pk: tuple(place) for pk, *place in cursor.fetchall()}
            raise _Undo
    except _Undo:
        pass
    assert stored == read


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.parametrize("split", ["public", "private"])
def test_a_board_is_numbered_once_a_read_whatever_the_planner_knows(split):
    """The view joins nothing that the planner could read again for every row: with no statistics on the table
    (a new deployment, a board filled faster than autovacuum analyses it), each numbering runs once a read."""
    phase, _ = _board_of(200)
    read = LeaderboardEntry.objects.filter(phase=phase, split=split).order_by("position").values_list(
        "row_json", flat=True)[:50]
    sql, params = read.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])",
                       [[StoredEntry._meta.db_table, LeaderboardSnapshot._meta.db_table]])
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]
    numberings = [node for node in _plan_nodes(plan) if node["Node Type"] == "WindowAgg"]
    assert numberings and all(node["Actual Loops"] == 1 for node in numberings)
    assert max(node["Actual Rows"] for node in numberings) == 400  # the phase's two boards, not the table
    assert [json.loads(row)["position"] for row in read] == list(range(1, 51))
