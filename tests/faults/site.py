"""The platform under test, as separate processes: gunicorn, Celery workers and beat, on the suite's own
PostgreSQL cluster and Redis; and a client that uploads as the `arena` CLI does."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from tests.faults.servers import free_port, wait_port
from tests.processes import stop_process_group

REPO = Path(__file__).resolve().parents[2]
SCORED_LINE = re.compile(r"submission (\d+) scored")


class Site:
    def __init__(self, folder: Path, *, database_url: str, broker_url: str, **settings: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "arena.config.settings.local",
            "DJANGO_DEBUG": "false",
            "ARENA_VAR_DIR": str(folder / "var"),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "ARENA_API_RATE_SUBMISSIONS": "100000/minute",
            "ARENA_API_RATE_USER": "100000/minute",
            "PYTHONPATH": f"{REPO}:{REPO / 'platform'}",
            **settings,
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.world: dict = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- processes -------------------------------------------------------------------------------------
    def run(self, *argv: str, timeout: float = 300) -> str:
        done = subprocess.run([sys.executable, *argv], cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"{argv} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def prepare(self, *, teams: int) -> dict:
        self.run("manage.py", "migrate", "--verbosity", "0")
        self.world = json.loads(self.run("-m", "tests.faults.world", "setup", "--teams", str(teams)))
        return self.world

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("a")
        proc = subprocess.Popen([sys.executable, *argv], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes[name] = proc
        return proc

    def start_web(self, *, workers: int = 3, threads: int = 4) -> None:
        self._start("web", ["-m", "gunicorn", "arena.config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                            "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
                            "--timeout", "120"])
        wait_port(self.port, up=True, timeout=60)

    def start_worker(self, name: str = "worker", *, concurrency: int = 2) -> subprocess.Popen:
        return self._start(name, ["-m", "celery", "-A", "arena.config", "worker", "-Q", "default,score",
                                  "-c", str(concurrency), "-n", f"{name}-{os.getpid()}@%h", "--without-mingle",
                                  "--without-gossip", "--loglevel", "INFO"])

    def start_beat(self) -> None:
        self._start("beat", ["-m", "celery", "-A", "arena.config", "beat", "--loglevel", "INFO",
                             "-s", str(self.folder / "beat-schedule")])

    def kill(self, name: str) -> None:
        """SIGKILL a process and all its children (a whole worker, its pool included)."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def close(self) -> None:
        for name in list(self.processes):
            stop_process_group(self.processes.pop(name))

    # --- what happened ---------------------------------------------------------------------------------
    def statuses(self, ids: list[int]) -> Counter:
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT status FROM submissions_submission WHERE id = ANY(%s)", (ids,)).fetchall()
        return Counter(status for (status,) in rows)

    def wait_all_scored(self, ids: list[int], *, timeout: float) -> float:
        """Seconds until every one of ``ids`` is scored; fails with the statuses seen if that takes too long."""
        started = time.monotonic()
        seen = Counter()
        while time.monotonic() - started < timeout:
            try:
                seen = self.statuses(ids)
            except psycopg.OperationalError:
                seen = Counter()
            if seen.get("scored") == len(ids):
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"not every submission was scored within {timeout} s: {dict(seen)}\n{self.log_tail()}")

    def scored_lines(self) -> Counter:
        """How many times each submission's scoring committed, from every worker's log."""
        counts = Counter()
        for log in self.folder.glob("worker*.log"):
            counts.update(int(m) for m in SCORED_LINE.findall(log.read_text(errors="replace")))
        return counts

    def check(self) -> dict:
        return json.loads(self.run("-m", "tests.faults.world", "check"))

    def log_tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}"
                         for log in sorted(self.folder.glob("*.log")))


@dataclass
class Upload:
    """One logical upload, retried as the CLI retries: same idempotency key, after Retry-After."""

    team: int
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    statuses: list[int] = field(default_factory=list)
    submission_id: int | None = None


class Client:
    def __init__(self, site: Site, *, retry_for: float = 120, timeout: float = 60) -> None:
        self.site = site
        self.retry_for = retry_for
        self.timeout = timeout
        self.uploads: list[Upload] = []
        self._lock = threading.Lock()
        self._seq = 0

    def prediction(self, seed: int) -> bytes:
        import random

        rng = random.Random(seed)
        names, labels = self.site.world["names"], self.site.world["labels"]
        return ("name,discrete\n" + "".join(f"{n},{rng.choice(labels)}\n" for n in names)).encode()

    def upload(self, team: int) -> Upload:
        with self._lock:
            self._seq += 1
            seq = self._seq
        upload = Upload(team=team)
        token = self.site.world["tokens"][team]
        url = f"{self.site.url}/api/v1/phases/{self.site.world['phase']}/submissions"
        data = self.prediction(seq)
        deadline = time.monotonic() + self.retry_for
        while True:
            try:
                response = requests.post(
                    url, headers={"Authorization": f"Token {token}", "Idempotency-Key": upload.key},
                    files={"file": ("predictions.csv", data)}, data={"method_name": f"run {seq}"}, timeout=self.timeout)
                upload.statuses.append(response.status_code)
                if response.status_code in (200, 201):
                    upload.submission_id = response.json()["id"]
                    break
                retry = response.status_code in (502, 503, 504)
                wait = float(response.headers.get("Retry-After", "1"))
            except requests.ConnectionError:
                upload.statuses.append(0)  # refused or reset: the site is restarting
                retry, wait = True, 1.0
            if not retry or time.monotonic() > deadline:
                break
            time.sleep(wait)
        with self._lock:
            self.uploads.append(upload)
        return upload

    def burst(self, count: int, *, teams: int, threads: int = 20) -> list[Upload]:
        """``count`` uploads spread over ``teams`` teams, ``threads`` at a time."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda i: self.upload(i % teams), range(count)))

    def accepted_ids(self) -> list[int]:
        return sorted({u.submission_id for u in self.uploads if u.submission_id is not None})

    def all_statuses(self) -> Counter:
        return Counter(code for u in self.uploads for code in u.statuses)
