"""Benchmark of board reads (run by hand; not part of the test suite).

A phase holding 10,000 scored submissions (1,000 teams) in a scratch PostgreSQL database, served by gunicorn on
loopback; wrk measures, side by side in one server and interleaved rounds:

- ``before``: the API board and its CSV as they were before the lean board read (the phase read with its track
  and challenge in full, ~80 columns; every full answer rendered from its rows), kept verbatim below and served
  under ``/bench/before/``;
- ``after``: the API board, its CSV and the HTML page as served: the phase and snapshot read by queries
  compiled once per process (``arena.leaderboards.caching.CompiledRead``), and full answers kept per process by
  path and ETag (``arena.leaderboards.caching.board_bodies``);

each with plain GETs (full answers) and conditional GETs (``If-None-Match`` with the current ETag: 304 without
rows), ``--repeats`` times; it reports medians, the load average around each run, and the server CPU per
request. Needs PostgreSQL and wrk; creates and drops its own database:

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
sys.path[:0] = [str(REPO), str(REPO / "platform"), str(REPO / "benchmarks")]


def _before_views():
    """The API board and CSV views as they were before the lean board read (verbatim but for their names),
    answering through today's ``board_response`` with the store of full answers off."""
    from django.http import Http404, HttpResponse
    from django.shortcuts import get_object_or_404
    from django.utils import timezone

    from arena.challenges.models import Phase
    from arena.challenges.permissions import is_organiser
    from arena.challenges.selectors import challenge_is_visible_to
    from arena.challenges.visibility import board_to_read, default_split, visible_boards
    from arena.core.errors import DomainError
    from arena.leaderboards.api.views import LeaderboardCsvView, LeaderboardView, _window
    from arena.leaderboards.caching import BoardRead, board_csv, board_response
    from arena.leaderboards.models import LeaderboardSnapshot

    def board_read(*, phase, split, user, now=None) -> BoardRead:
        now = now or timezone.now()
        organiser = is_organiser(user, phase.track.challenge)
        visible = list(visible_boards(phase, organiser=organiser, now=now))
        try:
            board = board_to_read(phase, split, organiser=organiser, now=now)
        except DomainError as exc:
            return BoardRead(phase, split, organiser, visible, None, None, exc)
        snapshot = LeaderboardSnapshot.objects.filter(phase=phase, split=board).defer("csv").first()
        return BoardRead(phase, split, organiser, visible, board, snapshot, None)

    def _phase(request, phase_id: int) -> Phase:
        phase = get_object_or_404(Phase.objects.select_related("track__challenge"), pk=phase_id)
        if not challenge_is_visible_to(phase.track.challenge, request.user):
            raise Http404("No such phase.")
        return phase

    class BeforeLeaderboardView(LeaderboardView):
        def get(self, request, phase_id: int):
            phase = _phase(request, phase_id)
            split = request.query_params.get("split") or default_split(phase)
            limit, offset = _window(request)
            read = board_read(phase=phase, split=split, user=request.user)
            return board_response(request, read, representation="api", shared=False,
                                  render=lambda: self._body(read, limit, offset))

    class BeforeLeaderboardCsvView(LeaderboardCsvView):
        def get(self, request, phase_id: int):
            phase = _phase(request, phase_id)
            split = request.query_params.get("split") or default_split(phase)
            read = board_read(phase=phase, split=split, user=request.user)

            def render():
                if read.refusal is not None:
                    return self.handle_exception(read.refusal)
                response = HttpResponse(board_csv(read), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="leaderboard-{phase.pk}-{split}.csv"'
                return response

            return board_response(request, read, representation="csv", render=render, shared=False)

    return BeforeLeaderboardView.as_view(), BeforeLeaderboardCsvView.as_view()


if os.environ.get("BENCH_BOARD_READS_WSGI") == "1":  # imported by gunicorn as this benchmark's site
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.conf import settings
    from django.urls import include, path

    _before_api, _before_csv = _before_views()
    urlpatterns = [path("bench/before/api/v1/phases/<int:phase_id>/leaderboard", _before_api),
                   path("bench/before/api/v1/phases/<int:phase_id>/leaderboard.csv", _before_csv),
                   path("", include("arena.config.urls"))]
    settings.ROOT_URLCONF = "bench_board_reads"


def scratch_database_url() -> str:
    """``DATABASE_URL``, once it names a scratch database (``arena_bench_*``): it is dropped and recreated."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[1].startswith("arena_bench"):
        raise SystemExit("set DATABASE_URL=postgres://.../arena_bench_<something> (it is dropped and recreated)")
    return url


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
        [sys.executable, "-m", "gunicorn", "bench_board_reads:application", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "--access-logfile", "/dev/null"], cwd=REPO, env=env, stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True)


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
    cpu_before, load_before = cpu_seconds(pids), os.getloadavg()[0]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    cpu, load_after = cpu_seconds(pids) - cpu_before, os.getloadavg()[0]
    lines = out.splitlines()
    rps = float(next(line for line in lines if line.startswith("Requests/sec")).split()[1])
    requests = int(next(line for line in lines if " requests in " in line).split()[0])
    p50 = next(line for line in lines if line.strip().startswith("50%")).split()[1]
    errors = next((line.strip() for line in lines if "Non-2xx or 3xx" in line or "Socket errors" in line), "")
    # Server CPU (web workers and their database backends) per request: what the rate would be on two cores
    # doing nothing else, on a machine where other work competes for them.
    cpu_ms = 1000 * cpu / requests if requests else float("nan")
    return {"rps": rps, "p50": p50, "errors": errors, "server_cpu_ms": cpu_ms, "load": (load_before, load_after)}


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
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    url = scratch_database_url()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    recreate_database(url)
    var_dir = tempfile.mkdtemp(prefix="arena-bench-boards-")
    setup_django(var_dir)
    print(f"filling a board with {args.submissions} submissions of {args.teams} teams...", flush=True)
    phase_id, refresh_s = make_board(submissions=args.submissions, teams=args.teams)
    from django.db import connections

    connections.close_all()
    # Throttling is etiquette for scripts; a load test from one address would only measure the 429s. The rates
    # are per second so the one address's history stays as short as a real client's (at most its rate, 300 a
    # minute by default): per minute it grew to ~20,000 timestamps, read and written whole on every request.
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'platform'}:{REPO / 'benchmarks'}",
           "ARENA_API_RATE_ANON": "100000000/second", "ARENA_API_RATE_USER": "100000000/second",
           "DJANGO_SETTINGS_MODULE": "arena.config.settings.local", "BENCH_BOARD_READS_WSGI": "1"}
    api, csv = f"/api/v1/phases/{phase_id}/leaderboard", f"/api/v1/phases/{phase_id}/leaderboard.csv"
    targets = {"API first page, before": "/bench/before" + api, "API first page": api,
               "API CSV, before": "/bench/before" + csv, "API CSV": csv,
               "HTML page": "/c/bench/t/discrete/p/board/leaderboard/"}
    results: dict[str, list[dict]] = {}
    web = start_web(args.port, args.gunicorn_workers, env, Path(var_dir) / "web.log")
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_http(base + api)
        cases = []
        for name, path in targets.items():
            for _ in range(3 * args.gunicorn_workers):  # every worker opens its connection, fills its store
                etag = check(base + path, {}, 200)
            check(base + path, {"If-None-Match": etag}, 304)
            cases.append((f"{name}, plain", base + path, {}))
            cases.append((f"{name}, conditional (304)", base + path, {"If-None-Match": etag}))
        pids = server_pids(web, url.rsplit("/", 1)[1])
        for round_number in range(args.repeats):  # interleaved, so a burst of load elsewhere hits every case
            for label, target, headers in cases:
                run = wrk(target, seconds=args.seconds, connections=args.connections, headers=headers, pids=pids)
                results.setdefault(label, []).append(run)
                print(f"  round {round_number + 1}: {label}: {run['rps']:.0f}/s (load {run['load'][0]:.1f})",
                      flush=True)
    finally:
        stop(web)
        connections.close_all()
        drop_database(url)
    summary = {label: {"median_rps": statistics.median(r["rps"] for r in runs),
                       "runs_rps": [r["rps"] for r in runs], "p50_latency": [r["p50"] for r in runs],
                       "load_average": [round(max(r["load"]), 1) for r in runs],
                       "server_cpu_ms_per_request": round(statistics.median(r["server_cpu_ms"] for r in runs), 3),
                       "two_core_capacity_rps": round(2000 / statistics.median(r["server_cpu_ms"] for r in runs)),
                       "errors": sorted({r["errors"] for r in runs if r["errors"]})}
               for label, runs in results.items()}
    for name in ("API first page", "API CSV"):
        for kind in ("plain", "conditional (304)"):
            before, after = summary[f"{name}, before, {kind}"], summary[f"{name}, {kind}"]
            after["after_over_before"] = round(after["median_rps"] / before["median_rps"], 2)
    print(json.dumps({"board_submissions": args.submissions, "teams": args.teams, "full_refresh_s": refresh_s,
                      "cpus": os.cpu_count(), "gunicorn_workers": args.gunicorn_workers,
                      "connections": args.connections, "seconds": args.seconds, "repeats": args.repeats,
                      "results": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
