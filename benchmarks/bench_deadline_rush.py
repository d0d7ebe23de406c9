"""Deadline-rush benchmark: many teams uploading prediction files at once (run by hand; not part of the suite).

The platform runs as separate processes, as in production: gunicorn (``--web-workers`` gthread workers,
4 threads each), ``--workers`` Celery worker processes (queues ``default,score``, concurrency 1 each:
"2 scoring workers" means two worker processes that score one submission at a time each) and Celery beat,
on a PostgreSQL cluster and a Redis of the benchmark's own, on loopback ports of their own (the fault
suite's servers, site and world: tests/faults/). The phase is the fault suite's MER discrete phase with a
411-row reference (250 public, 161 private rows); ``--teams`` approved teams, each with its own API token.

Arrivals are open-loop: ``rate x duration`` uploads at times drawn in advance (``--arrivals poisson``: a
Poisson process conditioned on the count, i.e. sorted uniform times; ``uniform``: evenly spaced), each
for a team of a shuffled round-robin over the teams, with a random but valid 411-row prediction file.
A scheduler starts a thread for each upload at its time (at most ``--client-threads`` unanswered at
once, default 1,000), so a slow answer never delays the next arrival. Each upload is sent as the
``arena`` CLI sends it (tests.faults.site.Client: token, Idempotency-Key, retried on 502/503/504 after
Retry-After). Recorded per upload: scheduled time, send time, answer time, every status code, the
submission id.

Before the first arrival, every worker has said it is ready and each web worker has answered a few board
reads (no cold start inside the rush). The times are taken from the database after the run (nothing
polls the web host during it; the wait for the drain polls only the database):

* upload-to-board: from the client receiving the upload's 201 answer until the scoring transaction of
  that submission commits. The scoring (arena.submissions.services.scoring._score) marks the submission
  scored, stores its scores and re-ranks the board (``leaderboard_refresh``) in one transaction under the
  phase lock, and board reads have no server-side cache, so the board reflects the submission exactly
  when that transaction commits. The commit time is read with ``pg_xact_commit_timestamp`` of the
  submission's score rows (inserted in that transaction and never touched again); the cluster runs
  with ``track_commit_timestamp = on`` for this. Client and server share one clock (loopback).
  Should scoring and ranking ever commit separately, this definition has to follow the ranking commit.
* its parts (medians): queue wait (201 answer to ``scoring_started_at``), scoring including the wait for
  the phase lock (to ``finished_at``, set under the lock), ranking and commit (``finished_at`` to commit).
* throughput: scored submissions per second overall (first arrival to last commit) and steady (commits
  between 20 % and 100 % of the arrival window, per second of it).
* arrival-to-board: from the upload's scheduled arrival to the same commit (adds the wait for the answer).
* backlog: uploads arrived (by schedule) and not yet on the board, waiting for their answer included,
  sampled every second; its least-squares slope over the second half of the arrival window, its size when
  the arrivals end and its maximum; and the drain time (last 201 answer to last commit).
* upload answer latency (send to final answer, retries included), the lag of sends behind the schedule
  (non-zero only when ``--client-threads`` uploads are unanswered at once), and every status code seen.
* CPU seconds used by the web server, each worker and beat from the first arrival until everything is
  scored (from /proc: by process group; PostgreSQL's server processes alive at the end; this client),
  and the lock waits over 1 s PostgreSQL logged (``log_lock_waits``): where the time went.
* correctness afterwards (workers stopped): every accepted upload is one submission, scored, with two
  score rows, one attempt, and exactly one "submission N scored" line over all worker logs; every stored
  board equals the board ranked again from scratch (tests.faults.world check). A submission still not
  scored after ``--drain-timeout`` counts as never on the board (infinite in the percentiles) and in
  "unscored"; it must have no "scored" line.

A run keeps up when every upload was accepted, everything was scored, p95 upload-to-board < 10 s and
the backlog does not grow (slope <= 5 % of the arrival rate). ``--find-max`` runs ``--max-rates`` (default
17, 25, 35, 50 per second) for ``--max-duration`` seconds each (default 60), each on a fresh database,
and stops at the first rate that does not keep up: the highest rate that did is the sustainable maximum.

Needs root (the cluster runs as the postgres user), PostgreSQL's server binaries and redis-server:

    .venv/bin/python benchmarks/bench_deadline_rush.py                    # 5,000 uploads over 300 s, 1,000 teams
    .venv/bin/python benchmarks/bench_deadline_rush.py --teams 100 --duration 30 --rate 10
    .venv/bin/python benchmarks/bench_deadline_rush.py --find-max --drain-timeout 300 --json /tmp/rush-max.json
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

import psycopg  # noqa: E402
import requests  # noqa: E402

from tests.faults.servers import PostgresCluster, RedisServer, postgres_bindir  # noqa: E402
from tests.faults.site import Client, Site  # noqa: E402
from tests.processes import stop_process_group  # noqa: E402

P95_TARGET_S = 10.0
#: The backlog "grows" when it rises by more than this share of the arrival rate per second.
BACKLOG_SLOPE_SHARE = 0.05


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


@dataclass
class Arrival:
    index: int
    team: int
    scheduled: float  # seconds after the start of the arrivals
    sent: float = math.nan  # wall-clock epoch seconds
    answered: float = math.nan
    statuses: list[int] = field(default_factory=list)
    submission_id: int | None = None


def schedule(*, rate: float, duration: float, teams: int, arrivals: str, seed: int) -> list[Arrival]:
    rng = random.Random(seed)
    count = max(1, round(rate * duration))
    if arrivals == "poisson":  # a Poisson process given its count: sorted uniform times
        times = sorted(rng.uniform(0, duration) for _ in range(count))
    else:
        times = [i / rate for i in range(count)]
    order = [i % teams for i in range(count)]
    rng.shuffle(order)
    return [Arrival(index=i, team=team, scheduled=t) for i, (t, team) in enumerate(zip(times, order, strict=True))]


def send_all(client: Client, plan: list[Arrival], *, threads: int) -> float:
    """Send every upload at its scheduled time (open loop); returns the epoch time the arrivals started."""

    def one(arrival: Arrival) -> None:
        arrival.sent = time.time()
        try:
            upload = client.upload(arrival.team)
        except Exception as exc:  # a read time-out, say: recorded as status -1
            arrival.answered = time.time()
            arrival.statuses = [-1]
            print(f"  upload {arrival.index} failed: {exc!r}", flush=True)
            return
        arrival.answered = time.time()
        arrival.statuses = upload.statuses
        arrival.submission_id = upload.submission_id

    slots = threading.BoundedSemaphore(threads)

    def run(arrival: Arrival) -> None:
        try:
            one(arrival)
        finally:
            slots.release()

    started: list[threading.Thread] = []
    start_mono, start_wall = time.monotonic() + 0.5, time.time() + 0.5
    for arrival in plan:
        delay = start_mono + arrival.scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        slots.acquire()  # only with ``threads`` uploads unanswered does the schedule wait (see the send lag)
        thread = threading.Thread(target=run, args=(arrival,), daemon=True)
        thread.start()
        started.append(thread)
    for thread in started:
        thread.join()
    return start_wall


def warm_up(site: Site, *, workers: int, timeout: float = 120) -> None:
    """Until every worker says it is ready, and each web worker has answered a few board reads (the first
    request of a process loads what the application imports lazily): no cold start inside the rush."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and sum(
            "ready." in log.read_text(errors="replace") for log in site.folder.glob("worker-*.log")) < workers:
        time.sleep(0.5)
    board = f"{site.url}/api/v1/phases/{site.world['phase']}/leaderboard"
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda _: requests.get(board, timeout=timeout).raise_for_status(), range(36)))


def cpu_seconds(site: Site, *, postgres: PostgresCluster, redis: RedisServer) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each of the site's process groups, the cluster's server
    processes alive now, Redis and this client, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {proc.pid: name for name, proc in site.processes.items()}
    if redis.proc is not None:
        groups[redis.proc.pid] = "redis"
    postmaster = int((postgres.data / "postmaster.pid").read_text().split()[0])
    used = dict.fromkeys([*groups.values(), "postgresql"], 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        # After the name: state, ppid, pgrp, ...; utime and stime are the 12th and 13th.
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[2]) in groups:
            used[groups[int(fields[2])]] += cpu
        elif pid == postmaster or int(fields[1]) == postmaster:
            used["postgresql"] += cpu
    mine = resource.getrusage(resource.RUSAGE_SELF)
    used["client"] = mine.ru_utime + mine.ru_stime
    return used


def lock_waits(postgres: PostgresCluster, since: int) -> int:
    """Lock waits longer than ``deadlock_timeout`` (1 s) the server logged after byte ``since`` of its log."""
    with postgres.log.open("rb") as log:
        log.seek(since)
        return log.read().decode(errors="replace").count("still waiting for")


def wait_scored(site: Site, ids: list[int], *, timeout: float, quiet: float = 3.0) -> bool:
    """Until every one of ``ids`` has left the queue (scored or failed); False after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        seen = site.statuses(ids)
        done = seen.get("scored", 0) + seen.get("failed", 0)
        if done == len(ids):
            return True
        if done != last:
            print(f"  waiting: {dict(seen)}", flush=True)
            last = done
        time.sleep(quiet)
    return False


def timings(database_url: str, ids: list[int]) -> dict[int, dict]:
    """Per submission: status, epoch times of scoring start, finished_at and the scoring commit."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT s.id, s.status, extract(epoch FROM s.created_at), extract(epoch FROM s.scoring_started_at),
                   extract(epoch FROM s.finished_at),
                   (SELECT extract(epoch FROM max(pg_xact_commit_timestamp(sc.xmin)))
                      FROM submissions_submissionscore sc WHERE sc.submission_id = s.id)
              FROM submissions_submission s WHERE s.id = ANY(%s)
            """, (ids,)).fetchall()
    return {r[0]: {"status": r[1], "created": _f(r[2]), "scoring_started": _f(r[3]), "finished": _f(r[4]),
                   "committed": _f(r[5])} for r in rows}


def _f(value) -> float:
    return float(value) if value is not None else math.nan


def stats(values: list[float]) -> dict:
    return {"n": len(values), "median": median(values), "p95": percentile(values, 0.95),
            "max": max(values) if values else math.nan}


def analyse(plan: list[Arrival], start: float, times: dict[int, dict], *, rate: float, duration: float) -> dict:
    accepted = [a for a in plan if a.submission_id is not None]
    board, arrival_board, wait, score, rank, answer, lag = [], [], [], [], [], [], []
    unscored = 0
    for a in plan:
        if a.submission_id is not None:
            answer.append(a.answered - a.sent)
        lag.append(a.sent - (start + a.scheduled))
    for a in accepted:
        t = times.get(a.submission_id, {})
        committed = t.get("committed", math.nan)
        if t.get("status") != "scored" or math.isnan(committed):
            unscored += 1
            board.append(math.inf)  # never on the board: counts against the percentiles
            arrival_board.append(math.inf)
            continue
        board.append(committed - a.answered)
        arrival_board.append(committed - (start + a.scheduled))
        wait.append(t["scoring_started"] - a.answered)
        score.append(t["finished"] - t["scoring_started"])
        rank.append(committed - t["finished"])
    commits = sorted(t["committed"] for t in times.values() if not math.isnan(t["committed"]))
    answers = sorted(a.answered for a in accepted)
    arrived = sorted(start + a.scheduled for a in accepted)
    end = start + duration
    steady_from = start + 0.2 * duration
    steady = sum(1 for c in commits if steady_from <= c < end) / (end - steady_from)
    overall = len(commits) / (commits[-1] - start) if commits else 0.0

    def backlog(t: float) -> int:
        """Uploads arrived (scheduled) by ``t`` and not yet on the board, waiting for an answer included."""
        return bisect.bisect_right(arrived, t) - bisect.bisect_right(commits, t)

    samples = [(s, backlog(start + s)) for s in range(0, int(duration) + 1)]
    second_half = [(s, b) for s, b in samples if s >= duration / 2]
    growth = slope(second_half)
    finite = [b for b in board if not math.isinf(b)]
    board_stats = stats(board)
    statuses = Counter(code for a in plan for code in a.statuses)
    keeps_up = (len(accepted) == len(plan) and unscored == 0 and board_stats["p95"] < P95_TARGET_S
                and growth <= BACKLOG_SLOPE_SHARE * rate)
    return {
        "uploads": len(plan), "accepted": len(accepted), "unscored": unscored,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answer_s": stats(answer), "send_lag_s": {"median": median(lag), "max": max(lag) if lag else math.nan},
        "upload_to_board_s": board_stats, "upload_to_board_scored_only_s": stats(finite),
        "arrival_to_board_s": stats(arrival_board),
        "parts_median_s": {"queue_wait": median(wait), "scoring_and_lock_wait": median(score),
                           "ranking_and_commit": median(rank)},
        "throughput_per_s": {"overall": overall, "steady": steady, "arrival": len(plan) / duration},
        "backlog": {"at_end_of_arrivals": backlog(end), "max": max(b for _, b in samples),
                    "slope_per_s_second_half": growth, "grows": growth > BACKLOG_SLOPE_SHARE * rate,
                    "every_10_s": [b for s, b in samples if s % 10 == 0]},
        "drain_s": (commits[-1] - answers[-1]) if commits and answers else math.nan,
        "keeps_up": keeps_up,
    }


def correctness(site: Site, plan: list[Arrival], ids: list[int]) -> dict:
    report = site.check()
    subs = report["submissions"]
    scored_lines = site.scored_lines()
    return {
        "one_submission_per_upload": sorted(map(int, subs)) == ids and len(ids) == sum(
            1 for a in plan if a.submission_id is not None),
        "all_scored": all(s["status"] == "scored" for s in subs.values()),
        "two_scores_each": all(s["scores"] == 2 for s in subs.values() if s["status"] == "scored"),
        "more_than_one_attempt": sum(1 for s in subs.values() if s["attempts"] > 1),
        # One "scored" line for a scored submission, none for one still queued when the workers stopped.
        "scored_lines_not_one": {i: scored_lines[i] for i in ids
                                 if scored_lines[i] != (subs.get(str(i), {}).get("status") == "scored")},
        "boards_equal_rerank": all(b["equal"] for b in report["boards"].values()),
        "board_rows": {k: b["rows"] for k, b in report["boards"].items()},
    }


def run_once(cluster: PostgresCluster, root: Path, *, name: str, rate: float, duration: float, teams: int,
             workers: int, web_workers: int, threads: int, arrivals: str, seed: int, drain_timeout: float,
             upload_timeout: float) -> dict:
    folder = root / name
    folder.mkdir()
    redis = RedisServer(folder / "redis")
    redis.start()
    site = Site(folder, database_url=cluster.create_database(name), broker_url=redis.url)
    result: dict = {"name": name, "rate": rate, "duration_s": duration, "teams": teams, "workers": workers,
                    "web_workers": web_workers, "arrivals": arrivals}
    try:
        started = time.monotonic()
        site.prepare(teams=teams)
        print(f"[{name}] {teams} teams set up in {time.monotonic() - started:.0f} s", flush=True)
        site.start_web(workers=web_workers)
        for i in range(workers):
            site.start_worker(f"worker-{i + 1}", concurrency=1)
        site.start_beat()
        warm_up(site, workers=workers)
        plan = schedule(rate=rate, duration=duration, teams=teams, arrivals=arrivals, seed=seed)
        client = Client(site, timeout=upload_timeout)
        print(f"[{name}] {len(plan)} uploads over {duration:.0f} s ({rate}/s)...", flush=True)
        cpu_before = cpu_seconds(site, postgres=cluster, redis=redis)
        log_from = cluster.log.stat().st_size
        start = send_all(client, plan, threads=threads)
        ids = sorted({a.submission_id for a in plan if a.submission_id is not None})
        print(f"[{name}] arrivals done ({time.time() - start:.0f} s); waiting for scoring", flush=True)
        result["drained"] = wait_scored(site, ids, timeout=drain_timeout)
        cpu_after = cpu_seconds(site, postgres=cluster, redis=redis)
        result["lock_waits_over_1s"] = lock_waits(cluster, log_from)
        result["cpu_s"] = {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 1) for k in cpu_after}
        result["wall_s"] = round(time.time() - start, 1)
        for proc in [n for n in site.processes if n.startswith("worker") or n == "beat"]:
            stop_process_group(site.processes.pop(proc))
        result.update(analyse(plan, start, timings(site.database_url, ids), rate=rate, duration=duration))
        result["correctness"] = correctness(site, plan, ids)
        c = result["correctness"]
        # What was scored was scored once and ranked right; what was not is counted in "unscored".
        result["correct"] = (c["one_submission_per_upload"] and c["two_scores_each"]
                             and not c["scored_lines_not_one"] and c["boards_equal_rerank"])
        result["keeps_up"] = result["keeps_up"] and result["correct"]
        result["uploads_detail"] = [asdict(a) for a in plan]
    finally:
        site.close()
        redis.close()
    return result


def plain(value):
    """``value`` with NaN and infinity as None, for strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def fmt(x: float, digits: int = 2) -> str:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return "—" if math.isnan(x) else "∞"
    return f"{x:.{digits}f}"


def markdown(runs: list[dict], sustainable: float | None) -> str:
    lines = [
        "| rate /s | s | teams | uploads | accepted | statuses | answer median / p95 s | upload-to-board median / "
        "p95 / max s | arrival-to-board p95 s | parts: queue / score+lock / rank+commit s | scored/s overall / "
        "steady | backlog end / max / slope /s | drain s | send lag max s | correct | keeps up |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        b, p, t, q = r["upload_to_board_s"], r["parts_median_s"], r["throughput_per_s"], r["backlog"]
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        lines.append(
            f"| {r['rate']:g} | {r['duration_s']:g} | {r['teams']} | {r['uploads']} | {r['accepted']} | {statuses} | "
            f"{fmt(r['answer_s']['median'], 3)} / {fmt(r['answer_s']['p95'], 3)} | "
            f"{fmt(b['median'])} / {fmt(b['p95'])} / {fmt(b['max'])} | {fmt(r['arrival_to_board_s']['p95'])} | "
            f"{fmt(p['queue_wait'])} / {fmt(p['scoring_and_lock_wait'], 3)} / {fmt(p['ranking_and_commit'], 3)} | "
            f"{fmt(t['overall'])} / {fmt(t['steady'])} | {q['at_end_of_arrivals']} / {q['max']} / "
            f"{fmt(q['slope_per_s_second_half'])} | {fmt(r['drain_s'], 1)} | {fmt(r['send_lag_s']['max'])} | "
            f"{'yes' if r['correct'] else 'NO'} | "
            f"{'yes' if r['keeps_up'] else 'no'} |")
    for r in runs:
        lines.append(f"\n{r['name']}: CPU seconds from the first arrival until scored ({r['wall_s']} s of wall "
                     f"clock): " + ", ".join(f"{k} {v}" for k, v in r["cpu_s"].items())
                     + f"; lock waits over 1 s logged by PostgreSQL: {r['lock_waits_over_1s']}")
    for r in runs:
        c = r["correctness"]
        if not r["correct"] or c["more_than_one_attempt"]:
            lines.append(f"\n{r['name']}: {json.dumps(c)}")
    if sustainable is not None or len(runs) > 1:
        lines.append(f"\nSustainable maximum (p95 upload-to-board < {P95_TARGET_S:g} s, backlog not growing): "
                     f"{f'{sustainable:g}/s' if sustainable is not None else 'below the lowest rate tried'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5000 / 300, help="uploads per second (default 16.7)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of arrivals (default 300)")
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes, concurrency 1 each")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn gthread workers, 4 threads each")
    parser.add_argument("--client-threads", type=int, default=1000, help="most uploads unanswered at once")
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drain-timeout", type=float, default=900,
                        help="seconds to wait after the arrivals for everything to be scored; what is not "
                             "scored by then counts as never on the board (shorten it for --find-max)")
    parser.add_argument("--upload-timeout", type=float, default=300, help="seconds a client waits for an answer")
    parser.add_argument("--find-max", action="store_true", help="shorter runs at increasing rates")
    parser.add_argument("--max-rates", default="17,25,35,50")
    parser.add_argument("--max-duration", type=float, default=60)
    parser.add_argument("--json", type=Path, help="write the results (and every upload's record) here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, cluster)")
    args = parser.parse_args()
    if not (postgres_bindir() and shutil.which("redis-server")):
        raise SystemExit("needs PostgreSQL's server binaries and redis-server")

    root = Path(tempfile.mkdtemp(prefix="arena-rush-"))
    root.chmod(0o755)  # the cluster runs as postgres
    cluster = PostgresCluster(root / "postgres").init()
    cluster.start()
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")  # the board times
        conn.execute("ALTER SYSTEM SET log_lock_waits = on")  # lock waits over deadlock_timeout, in its log
    cluster.stop()
    cluster.start()
    runs: list[dict] = []
    sustainable = None
    common = {"teams": args.teams, "workers": args.workers, "web_workers": args.web_workers,
              "threads": args.client_threads, "arrivals": args.arrivals, "seed": args.seed,
              "drain_timeout": args.drain_timeout, "upload_timeout": args.upload_timeout}
    try:
        if args.find_max:
            for i, rate in enumerate(float(r) for r in args.max_rates.split(",")):
                run = run_once(cluster, root, name=f"rush_{i}", rate=rate, duration=args.max_duration, **common)
                runs.append(run)
                print(markdown([run], None), flush=True)
                if not run["keeps_up"]:
                    break
                sustainable = rate
        else:
            runs.append(run_once(cluster, root, name="rush", rate=args.rate, duration=args.duration, **common))
    finally:
        cluster.close()
        if args.keep:
            print(f"scratch folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(markdown(runs, sustainable if args.find_max else None))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(plain({"runs": runs, "sustainable_max_per_s": sustainable,
                                               "p95_target_s": P95_TARGET_S}), indent=1, default=str))
    return 0 if all(r["correct"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
