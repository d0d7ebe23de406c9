"""Benchmark of the prediction-file pipeline (run by hand; not part of the test suite).

1. Latency from an API upload to "visible on the leaderboard", over N sequential submissions
   of a 411-row MER file, with one Celery worker on Redis and PostgreSQL, web under gunicorn.
2. Leaderboard reads per second under gunicorn for a phase holding 10,000 scored submissions
   (with wrk when installed, otherwise a threaded Python client), and the time one refresh of
   that board takes (the work added to each scoring at that size).

Needs PostgreSQL and Redis; creates and drops its own database `arena_bench`:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python benchmarks/bench_pipeline.py
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
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

LABELS = ["neutral", "angry", "happy", "sad", "worried", "surprise"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "arena.config.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["ARENA_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_world(n_teams: int):
    """A MER discrete track with a 411-row reference and ``n_teams`` approved teams."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from arena.accounts.models import User
    from arena.challenges.models import Challenge, Licence, Phase, Track
    from arena.participation.models import LicenceAcceptance, Participation
    from arena.teams.models import Team, TeamMembership
    from arena.tokens.services import api_token_create

    rng = random.Random(7)
    names = [f"sample_{i:08d}" for i in range(411)]
    gold = {n: rng.choice(LABELS) for n in names}
    public = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[:250])
    private = "name,discrete\n" + "".join(f"{n},{gold[n]}\n" for n in names[250:])
    now = timezone.now()
    challenge = Challenge.objects.create(slug="bench", title="Bench", starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=30), is_published=True)
    licence = Licence.objects.create(challenge=challenge, version=1, title="L", text="L")
    track = Track.objects.create(challenge=challenge, slug="discrete", title="Discrete", scorer_key="mer.discrete",
                                 max_per_day=None, max_total=None, max_in_flight=None)
    phases = []
    for slug in ("latency", "board"):
        phase = Phase(track=track, slug=slug, title=slug, opens_at=now - timedelta(days=1),
                      closes_at=now + timedelta(days=10))
        phase.reference_public.save("public.csv", ContentFile(public.encode()), save=False)
        phase.reference_private.save("private.csv", ContentFile(private.encode()), save=False)
        phase.save()
        phases.append(phase)
    tokens = []
    for i in range(n_teams):
        user = User.objects.create_user(username=f"u{i}", email=f"u{i}@bench.test", password=None)
        team = Team.objects.create(challenge=challenge, name=f"Team {i:05d}", created_by=user)
        TeamMembership.objects.create(team=team, user=user, challenge=challenge, role="owner")
        Participation.objects.create(team=team, challenge=challenge, status="approved")
        LicenceAcceptance.objects.create(team=team, licence=licence, accepted_by=user, full_name="U",
                                         affiliation="A", accepted_on=now.date())
        tokens.append(api_token_create(user=user, name="bench").raw)
    prediction = "name,discrete\n" + "".join(
        f"{n},{gold[n] if rng.random() < 0.7 else rng.choice(LABELS)}\n" for n in names)
    return phases, tokens, prediction.encode()


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
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


def on_board(board: str, submission_id: int) -> bool:
    """Whether the submission is on the board, reading it page by page as a client would."""
    import requests

    offset = 0
    while True:
        page = requests.get(f"{board}?limit=1000&offset={offset}", timeout=30).json()
        if any(e["submission"] == submission_id for e in page["entries"]):
            return True
        offset += 1000
        if offset >= page["count"]:
            return False


def measure_latency(base: str, phase_id: int, tokens: list[str], data: bytes, count: int) -> list[float]:
    import requests

    latencies = []
    board = f"{base}/api/v1/phases/{phase_id}/leaderboard"
    for i in range(count):
        http = requests.Session()
        headers = {"Authorization": f"Token {tokens[i]}"}
        started = time.perf_counter()
        response = http.post(f"{base}/api/v1/phases/{phase_id}/submissions", files={"file": ("p.csv", data)},
                             data={"method_name": f"run {i}"}, headers=headers, timeout=60)
        if response.status_code != 201:
            raise SystemExit(f"upload {i} refused: {response.status_code} {response.text[:300]}")
        sid = response.json()["id"]
        while True:
            if on_board(board, sid):
                break
            if time.perf_counter() - started > 60:
                raise SystemExit(f"submission {sid} not on the board after 60 s")
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
    return latencies


def fill_board(phase, *, submissions: int, teams: int) -> tuple[float, float]:
    """Insert scored submissions over the first ``teams`` teams; return the median time of a full
    refresh and of the one-team refresh that each scoring does."""
    from arena.leaderboards.services import leaderboard_refresh
    from arena.submissions.models import Submission, SubmissionScore
    from arena.teams.models import Team

    rng = random.Random(11)
    team_ids = list(Team.objects.order_by("pk").values_list("pk", flat=True)[:teams])
    rows = Submission.objects.bulk_create(
        [Submission(phase=phase, team_id=team_ids[i % len(team_ids)], method_name=f"m{i}", status="scored")
         for i in range(submissions)], batch_size=2000)
    scores = []
    for sub in rows:
        for split in ("public", "private"):
            value = rng.random()
            scores.append(SubmissionScore(submission=sub, split=split, score=value,
                                          metrics={"waf": value, "accuracy": rng.random()}))
    SubmissionScore.objects.bulk_create(scores, batch_size=5000)
    full, one_team = [], []
    for _ in range(3):
        started = time.perf_counter()
        leaderboard_refresh(phase_id=phase.pk)
        full.append(time.perf_counter() - started)
        started = time.perf_counter()
        leaderboard_refresh(phase_id=phase.pk, team_ids=[team_ids[0]])
        one_team.append(time.perf_counter() - started)
    return statistics.median(full), statistics.median(one_team)


def measure_reads(url: str, seconds: int, connections: int) -> tuple[float, str]:
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url], capture_output=True,
                             text=True, check=True).stdout
        rps = float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])
        return rps, "wrk"
    import requests

    done = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        http = requests.Session()
        while time.monotonic() < deadline:
            http.get(url, timeout=30).raise_for_status()
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), "python threads"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--board-submissions", type=int, default=10_000)
    parser.add_argument("--board-teams", type=int, default=1_000)
    parser.add_argument("--scale-uploads", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("postgres") or not url.endswith("/arena_bench") or not broker.startswith("redis"):
        raise SystemExit("set DATABASE_URL=postgres://.../arena_bench and CELERY_BROKER_URL=redis://...")
    import socket

    import redis

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            raise SystemExit(f"port {args.port} is already in use; pass --port with a free one")
    redis.Redis.from_url(broker).flushdb()
    recreate_database(url)
    var_dir = tempfile.mkdtemp(prefix="arena-bench-")
    setup_django(var_dir)
    print("setting up data...", flush=True)
    phases, tokens, prediction = make_world(max(args.submissions, args.board_teams) + args.scale_uploads)
    # Throttling is etiquette for scripts; a load test from one address would only measure the 429s.
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'platform'}", "ARENA_API_RATE_ANON": "1000000/minute",
           "ARENA_API_RATE_USER": "1000000/minute", "ARENA_API_RATE_SUBMISSIONS": "1000000/minute"}
    logs = Path(var_dir)
    base = f"http://127.0.0.1:{args.port}"
    web = start([sys.executable, "-m", "gunicorn", "arena.config.wsgi", "-b", f"127.0.0.1:{args.port}",
                 "-w", str(args.gunicorn_workers), "--access-logfile", "/dev/null"], env, logs / "web.log")
    worker = start([sys.executable, "-m", "celery", "-A", "arena.config", "worker", "-Q", "default,score", "-c", "1",
                    "--without-mingle", "--without-gossip", "-l", "WARNING"], env, logs / "worker.log")
    try:
        wait_http(f"{base}/")
        time.sleep(2)
        print(f"latency: {args.submissions} sequential uploads...", flush=True)
        latencies = measure_latency(base, phases[0].pk, tokens, prediction, args.submissions) or [float("nan")]
        print(f"filling a board with {args.board_submissions} submissions...", flush=True)
        full_refresh, team_refresh = fill_board(phases[1], submissions=args.board_submissions,
                                                teams=args.board_teams)
        print(f"latency on the full board: {args.scale_uploads} uploads...", flush=True)
        scale_latencies = measure_latency(base, phases[1].pk, tokens[-args.scale_uploads:], prediction,
                                          args.scale_uploads) or [float("nan")]
        board_url = f"{base}/api/v1/phases/{phases[1].pk}/leaderboard"
        rps, tool = measure_reads(board_url, args.seconds, args.connections)
        page_url = f"{base}/c/bench/t/discrete/p/board/leaderboard/"
        page_rps, _ = measure_reads(page_url, args.seconds, args.connections)
    finally:
        stop(web)
        stop(worker)
    result = {
        "upload_to_leaderboard_s": {"n": len(latencies), "median": statistics.median(latencies),
                                    "p95": percentile(latencies, 0.95), "max": max(latencies)},
        "upload_to_leaderboard_s_on_10k_board": {
            "n": len(scale_latencies), "median": statistics.median(scale_latencies),
            "p95": percentile(scale_latencies, 0.95)},
        "board_refresh_s_at_10k": {"full": full_refresh, "one_team": team_refresh},
        "leaderboard_api_reads_per_s": rps, "leaderboard_page_reads_per_s": page_rps, "load_tool": tool,
        "gunicorn_workers": args.gunicorn_workers, "connections": args.connections,
    }
    print(json.dumps(result, indent=2))
    from django.db import connections

    connections.close_all()
    recreate_database(url)
    shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
