"""Benchmark of one team's leaderboard refresh (run by hand; not part of the test suite).

Two identical phases in a scratch PostgreSQL database, each with 1,000 teams and 10,000 scored submissions
(public and private scores, a tie-break metric). On each, ``--refreshes`` scorings of one team follow, a mix
of four moves in turn:

- **new**: a team's first entry, placed at random;
- **small**: a team improves by a few places;
- **top**: a team jumps to the top;
- **worse**: a worse entry that does not count (only the team's entry count changes).

Phase A is refreshed as ``leaderboard_refresh(team_ids=[team])`` does now (the team's entry moved in place);
phase B by the rewrite it replaces (``full_rewrite`` below, as the service did it before: recompute the team,
rank it against the stored entries, delete and re-insert every entry with its API row, render the CSV). The
two alternate, so a burst of load elsewhere hits both. Measured: the time the phase lock is held (from the
lock being granted to the commit) and the whole call. Creates and drops its own database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_bench_ranking .venv/bin/python benchmarks/bench_ranking.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

from bench_board_reads import drop_database, recreate_database, scratch_database_url, setup_django  # noqa: E402

MOVES = ("new", "small", "top", "worse")


def make_phase(slug: str, *, teams: int, submissions: int, fresh: int, seed: int):
    """A phase whose board holds ``submissions`` entries of ``teams`` teams, and ``fresh`` teams without any."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.accounts.models import User
    from arena.challenges.models import Challenge, Phase, Track
    from arena.leaderboards.services import leaderboard_refresh
    from arena.submissions.models import Submission, SubmissionScore
    from arena.teams.models import Team

    now = timezone.now()
    challenge = Challenge.objects.create(slug=slug, title=slug, starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=30), is_published=True)
    track = Track.objects.create(challenge=challenge, slug="discrete", title="Discrete", scorer_key="mer.discrete",
                                 tie_break_metrics=["accuracy"])
    phase = Phase(track=track, slug="board", title="Board", opens_at=now - timedelta(days=1),
                  closes_at=now + timedelta(days=10))
    phase.reference_public.save("public.csv", ContentFile(b"name,discrete\nsample_1,happy\n"), save=False)
    phase.reference_private.save("private.csv", ContentFile(b"name,discrete\nsample_2,sad\n"), save=False)
    phase.save()
    owner = User.objects.create_user(username=f"owner-{slug}", email=f"{slug}@bench.test", password=None)
    team_rows = Team.objects.bulk_create([Team(challenge=challenge, name=f"Team {i:05d}", created_by=owner)
                                          for i in range(teams + fresh)])
    rng = random.Random(seed)
    subs = Submission.objects.bulk_create(
        [Submission(phase=phase, team=team_rows[i % teams], method_name=f"method {i}", status="scored")
         for i in range(submissions)], batch_size=2000)
    scores = []
    for sub in subs:
        for split in ("public", "private"):
            value = round(rng.random(), 3)  # ties happen
            scores.append(SubmissionScore(submission=sub, split=split, score=value,
                                          metrics={"waf": value, "accuracy": round(rng.random(), 2)}))
    SubmissionScore.objects.bulk_create(scores, batch_size=5000)
    leaderboard_refresh(phase_id=phase.pk)
    return phase, team_rows[:teams], team_rows[teams:]


def full_rewrite(*, phase_id: int, team_id: int) -> None:
    """One team's refresh as the service did it before: the team's entries recomputed and ranked against the
    stored others, then every entry of every board deleted and written again with its API row and the CSV,
    all under the phase lock."""
    from collections import defaultdict

    from django.db import transaction
    from django.db.models import Q

    import scorers
    from arena.factsheets.selectors import factsheet_answers_of
    from arena.leaderboards import services
    from arena.leaderboards.exports import board_csv_render, entry_row_head, leaderboard_csv_columns
    from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, StoredEntry

    with transaction.atomic():
        phase = services.leaderboard_lock_phase(phase_id=phase_id)
        scorer = scorers.get_scorer(phase.track.scorer_key)
        tie_breaks = list(phase.track.tie_break_metrics or [])

        def keyed(r):
            r.key = services._sort_key(r.score, r.metrics, scorer=scorer, tie_breaks=tie_breaks)
            return r

        boards = services._recompute(phase, Q(submission__team_id__in=[team_id]), keyed=keyed)
        for board, rows in boards.items():
            rows += [keyed(services._Row(
                e["submission_id"], e["team_id"], e["team_name"], e["method_name"], e["submitted_at"],
                e["is_baseline"], e["score"], e["metrics"], e["entries_count"], conditions=e["conditions"]))
                for e in LeaderboardEntry.objects.filter(phase=phase, split=board).exclude(team_id=team_id).values(
                    "submission_id", "team_id", "team_name", "method_name", "submitted_at", "is_baseline", "score",
                    "metrics", "entries_count", "conditions")]
        previous = defaultdict(list)
        for board, sid, score, stats in LeaderboardEntry.objects.filter(phase=phase).order_by(
                "position").values_list("split", "submission_id", "score", "statistics"):
            previous[board].append((sid, score, stats))
        StoredEntry.objects.filter(phase=phase).delete()
        answer_keys = leaderboard_csv_columns(phase, scorer)[2]
        answers = factsheet_answers_of({r.submission_id for rows in boards.values() for r in rows},
                                       leaderboard_only=True) if answer_keys else {}
        for board, rows in boards.items():
            entries = [services._entry(phase, board, r, answers=answers.get(r.submission_id, {})) for r in rows]
            for entry in entries:
                entry.row_head = entry_row_head(entry)
            StoredEntry.objects.bulk_create(entries, batch_size=1000)
            csv = board_csv_render(phase=phase, board=board)
            if not LeaderboardSnapshot.objects.filter(phase=phase, split=board, rows=len(entries), csv=csv).exists():
                LeaderboardSnapshot.objects.update_or_create(phase=phase, split=board,
                                                             defaults={"rows": len(entries), "csv": csv})


class LockClock:
    """Times from the phase lock being granted to the commit that releases it, and the whole call (which
    also runs what waits for the commit: queueing the statistics, off the lock)."""

    def __init__(self):
        from django.db import transaction

        from arena.leaderboards import services

        self.services, self.real = services, services.leaderboard_lock_phase
        self.granted = self.committed = None

        def timed(*, phase_id):
            phase = self.real(phase_id=phase_id)
            self.granted = time.perf_counter()
            # The first thing run after the commit (hooks run in the order they were added).
            transaction.on_commit(lambda: setattr(self, "committed", time.perf_counter()))
            return phase

        services.leaderboard_lock_phase = timed

    def run(self, refresh) -> tuple[float, float]:
        started = time.perf_counter()
        refresh()
        ended = time.perf_counter()
        return self.committed - self.granted, ended - started


def scoring(phase, team, move: str, rng: random.Random) -> None:
    """A new scored submission of ``team`` that makes the given move on the public and private boards."""
    from arena.leaderboards.models import LeaderboardEntry
    from arena.submissions.models import Submission, SubmissionScore

    sub = Submission.objects.create(phase=phase, team=team, method_name=f"{move} entry", status="scored")
    for split in ("public", "private"):
        entry = LeaderboardEntry.objects.filter(phase=phase, split=split, team=team).values(
            "score", "position").first()
        if move == "new":
            value = round(rng.random(), 3)
        elif move == "top":
            value = 1.0 + rng.random()
        elif move == "worse":
            value = entry["score"] - 0.01 if entry else 0.0
        else:  # a few places up: a little above the score five places higher
            above = LeaderboardEntry.objects.filter(phase=phase, split=split,
                                                    position=max(1, entry["position"] - 5)).values_list(
                "score", flat=True).first()
            value = above + 0.0001
        SubmissionScore.objects.create(submission=sub, split=split, score=value,
                                       metrics={"waf": value, "accuracy": round(rng.random(), 2)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--refreshes", type=int, default=200)
    args = parser.parse_args()
    url = scratch_database_url()
    recreate_database(url)
    setup_django(tempfile.mkdtemp(prefix="arena-bench-ranking-"))
    from django.conf import settings

    settings.ARENA_BOARD_STATISTICS_SECONDS = 30
    from arena.leaderboards.exports import snapshot_csv
    from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
    from arena.leaderboards.services import leaderboard_refresh

    fresh = args.refreshes // len(MOVES) + 1
    try:
        print(f"filling two boards with {args.submissions} submissions of {args.teams} teams...", flush=True)
        phases = {name: make_phase(f"bench-{name}", teams=args.teams, submissions=args.submissions, fresh=fresh,
                                   seed=11) for name in ("incremental", "rewrite")}
        # The planner's statistics of the filled tables, as autovacuum keeps them on a running database (without
        # them a team's scores are read by scanning every scored submission).
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        refreshers = {
            "incremental": lambda phase, team: leaderboard_refresh(phase_id=phase.pk, team_ids=[team.pk]),
            "rewrite": lambda phase, team: full_rewrite(phase_id=phase.pk, team_id=team.pk),
        }
        clock = LockClock()
        times: dict[str, dict[str, list]] = {name: {move: [] for move in MOVES} for name in phases}
        rngs = {name: random.Random(5) for name in phases}
        csv_reads: list[float] = []
        for i in range(args.refreshes):
            move = MOVES[i % len(MOVES)]
            for name, (phase, teams, new_teams) in phases.items():
                rng = rngs[name]
                team = new_teams.pop() if move == "new" else teams[rng.randrange(len(teams))]
                scoring(phase, team, move, rng)
                times[name][move].append(clock.run(lambda phase=phase, team=team, name=name: refreshers[name](
                    phase, team)))
            if i % 10 == 0:  # what the first CSV reader after a scoring pays now (off the lock)
                snapshot = LeaderboardSnapshot.objects.get(phase=phases["incremental"][0], split="public")
                started = time.perf_counter()
                snapshot_csv(snapshot_id=snapshot.pk)
                csv_reads.append(time.perf_counter() - started)
        # Both ways give the same boards.
        boards = [list(LeaderboardEntry.objects.filter(phase=phase).order_by("split", "position").values_list(
            "split", "position", "rank", "public_rank", "team_id", "score", "entries_count"))
            for phase, _, _ in phases.values()]
        assert [row[:3] + row[5:] for row in boards[0]] == [row[:3] + row[5:] for row in boards[1]]
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(url)

    def summary(samples: list[tuple[float, float]]) -> dict:
        held = sorted(s[0] * 1000 for s in samples)
        call = sorted(s[1] * 1000 for s in samples)
        p95 = max(0, round(0.95 * len(held)) - 1)
        return {"lock_median_ms": round(statistics.median(held), 2), "lock_p95_ms": round(held[p95], 2),
                "call_median_ms": round(statistics.median(call), 2), "call_p95_ms": round(call[p95], 2),
                "n": len(held)}

    result = {"teams": args.teams, "submissions": args.submissions, "refreshes": args.refreshes,
              "cpus": os.cpu_count(), "load_average": os.getloadavg(), "results": {
                  name: {"all": summary([s for samples in by_move.values() for s in samples]),
                         **{move: summary(samples) for move, samples in by_move.items()}}
                  for name, by_move in times.items()},
              "first_csv_read_after_a_change_median_ms": round(statistics.median(csv_reads) * 1000, 2)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
