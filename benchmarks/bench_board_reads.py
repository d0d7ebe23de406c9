"""Benchmark of board reads (run by hand; not part of the test suite).

A phase holding 10,000 scored submissions (1,000 teams) in a scratch PostgreSQL database, served by gunicorn on
loopback; wrk measures, for the API's first page, the page and the CSV:

- plain GETs with conditional handling switched off (``ARENA_BOARD_CONDITIONAL=false``: the reads as before),
- plain GETs with it on (the validators' cost on a full answer),
- conditional GETs (``If-None-Match`` with the current ETag: 304 without rows),

each ``--repeats`` times, and reports the medians. Needs PostgreSQL and wrk; creates and drops its own database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_bench_boards .venv/bin/python benchmarks/bench_board_reads.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "arena.config.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["ARENA_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_board(*, submissions: int, teams: int) -> tuple[int, float]:
    """A published challenge with one live phase whose board holds ``submissions`` scored entries of
    ``teams`` teams; returns the phase id and the time of the one full refresh."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.accounts.models import User
    from arena.challenges.models import Challenge, Phase, Track
    from arena.leaderboards.services import leaderboard_refresh
    from arena.submissions.models import Submission, SubmissionScore
    from arena.teams.models import Team

    now = timezone.now()
    challenge = Challenge.objects.create(slug="bench", title="Bench", starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=30), is_published=True)
    track = Track.objects.create(challenge=challenge, slug="discrete", title="Discrete", scorer_key="mer.discrete")
    phase = Phase(track=track, slug="board", title="Board", opens_at=now - timedelta(days=1),
                  closes_at=now + timedelta(days=10))
    phase.reference_public.save("public.csv", ContentFile(b"name,discrete\nsample_1,happy\n"), save=False)
    phase.reference_private.save("private.csv", ContentFile(b"name,discrete\nsample_2,sad\n"), save=False)
    phase.save()
    owner = User.objects.create_user(username="owner", email="owner@bench.test", password=None)
    team_rows = Team.objects.bulk_create([Team(challenge=challenge, name=f"Team {i:05d}", created_by=owner)
                                          for i in range(teams)])
    rng = random.Random(11)
    subs = Submission.objects.bulk_create(
        [Submission(phase=phase, team=team_rows[i % teams], method_name=f"method {i}", status="scored")
         for i in range(submissions)], batch_size=2000)
    scores = []
    for sub in subs:
        for split in ("public", "private"):
            value = rng.random()
            scores.append(SubmissionScore(submission=sub, split=split, score=value,
                                          metrics={"waf": value, "accuracy": rng.random()}))
    SubmissionScore.objects.bulk_create(scores, batch_size=5000)
    started = time.perf_counter()
    leaderboard_refresh(phase_id=phase.pk)
    return phase.pk, time.perf_counter() - started


def start_web(port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "arena.config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--access-logfile", "/dev/null"], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def server_pids(web: subprocess.Popen, database: str) -> list[int]:
    """The gunicorn workers and the PostgreSQL backends serving the benchmark database."""
    import psycopg

    workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(web.pid)], capture_output=True, text=True).stdout
    with psycopg.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        backends = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])]
    return [int(p) for p in workers.split()] + backends


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes (a process that has gone counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, *, seconds: int, connections: int, headers: dict[str, str] | None = None,
        pids: list[int] = ()) -> dict:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    cpu_before = cpu_seconds(pids)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pids) - cpu_before
    lines = out.splitlines()
    rps = float(next(line for line in lines if line.startswith("Requests/sec")).split()[1])
    requests = int(next(line for line in lines if " requests in " in line).split()[0])
    p50 = next(line for line in lines if line.strip().startswith("50%")).split()[1]
    errors = next((line.strip() for line in lines if "Non-2xx or 3xx" in line or "Socket errors" in line), "")
    # Server CPU (web workers and their database backends) per request: what the rate would be on two cores
    # doing nothing else, on a machine where other work competes for them.
    cpu_ms = 1000 * cpu / requests if requests else float("nan")
    return {"rps": rps, "p50": p50, "errors": errors, "server_cpu_ms": cpu_ms}


def check(url: str, headers: dict[str, str], status: int) -> str:
    import requests

    response = requests.get(url, headers=headers, timeout=30)
    if response.status_code != status:
        raise SystemExit(f"{url} with {headers}: {response.status_code}, expected {status}")
    return response.headers.get("ETag", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[1].startswith("arena_bench"):
        raise SystemExit("set DATABASE_URL=postgres://.../arena_bench_<something> (it is dropped and recreated)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    recreate_database(url)
    var_dir = tempfile.mkdtemp(prefix="arena-bench-boards-")
    setup_django(var_dir)
    print(f"filling a board with {args.submissions} submissions of {args.teams} teams...", flush=True)
    phase_id, refresh_s = make_board(submissions=args.submissions, teams=args.teams)
    from django.db import connections

    connections.close_all()
    # Throttling is etiquette for scripts; a load test from one address would only measure the 429s.
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'platform'}", "ARENA_API_RATE_ANON": "100000000/minute",
           "ARENA_API_RATE_USER": "100000000/minute", "DJANGO_SETTINGS_MODULE": "arena.config.settings.local"}
    targets = {"api": f"/api/v1/phases/{phase_id}/leaderboard", "page": "/c/bench/t/discrete/p/board/leaderboard/",
               "csv": f"/api/v1/phases/{phase_id}/leaderboard.csv"}
    results: dict[str, list[dict]] = {}
    try:
        for conditional in (False, True):
            web = start_web(args.port, args.gunicorn_workers, {**env, "ARENA_BOARD_CONDITIONAL": str(conditional)},
                            Path(var_dir) / f"web-{conditional}.log")
            base = f"http://127.0.0.1:{args.port}"
            try:
                wait_http(base + targets["api"])
                working = {}
                for name, path in targets.items():  # every worker opens its database connection
                    try:
                        for _ in range(3 * args.gunicorn_workers):
                            check(base + path, {}, 200)
                        working[name] = path
                    except SystemExit as exc:
                        print(f"  skipped {name}: {exc}", flush=True)
                        results.setdefault(f"{name} skipped", []).append({"error": str(exc)})
                pids = server_pids(web, url.rsplit("/", 1)[1])
                cases = []
                for name, path in working.items():
                    etag = check(base + path, {}, 200)
                    cases.append((f"{name} plain ({'on' if conditional else 'off'})", base + path, {}))
                    if conditional:
                        check(base + path, {"If-None-Match": etag}, 304)
                        cases.append((f"{name} conditional", base + path, {"If-None-Match": etag}))
                for _ in range(args.repeats):  # interleaved, so a burst of load elsewhere hits every case
                    for label, target, headers in cases:
                        print(f"  {label}...", flush=True)
                        results.setdefault(label, []).append(
                            wrk(target, seconds=args.seconds, connections=args.connections, headers=headers,
                                pids=pids))
            finally:
                stop(web)
    finally:
        connections.close_all()
        drop_database(url)
    skipped = {label: runs[0] for label, runs in results.items() if label.endswith("skipped")}
    results = {label: runs for label, runs in results.items() if label not in skipped}
    summary = {**skipped, **{label: {"median_rps": statistics.median(r["rps"] for r in runs),
                       "runs_rps": [r["rps"] for r in runs], "p50_latency": [r["p50"] for r in runs],
                       "server_cpu_ms_per_request": round(statistics.median(r["server_cpu_ms"] for r in runs), 3),
                       "two_core_capacity_rps": round(2000 / statistics.median(r["server_cpu_ms"] for r in runs)),
                       "errors": sorted({r["errors"] for r in runs if r["errors"]})}
               for label, runs in results.items()}}
    print(json.dumps({"board_submissions": args.submissions, "teams": args.teams, "full_refresh_s": refresh_s,
                      "cpus": os.cpu_count(), "gunicorn_workers": args.gunicorn_workers,
                      "connections": args.connections, "seconds": args.seconds, "repeats": args.repeats,
                      "results": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
