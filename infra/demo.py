"""`make demo`: migrate, load the demo, then run web + Celery worker + beat until Ctrl-C.

Runs on the embedded defaults (SQLite, local files, file-system broker) unless the
environment configures PostgreSQL, a broker or S3. Every process it starts is stopped on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
HOST = os.environ.get("ARENA_HOST", "127.0.0.1")
PORT = os.environ.get("ARENA_PORT", "8000")


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=REPO, check=True)


def start(name: str, argv: list[str]) -> subprocess.Popen:
    print(f"  starting {name}: {' '.join(argv)}", flush=True)
    # A process group per child, so that stopping it also stops its own children.
    return subprocess.Popen(argv, cwd=REPO, start_new_session=True)


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    # Each main process first shuts its own children down (Celery's warm shutdown); whatever
    # is still alive after the grace period is killed with its whole process group.
    for proc in processes.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.config.settings.local")
    os.environ.setdefault("ARENA_SITE_URL", f"http://{HOST}:{PORT}")
    print("Preparing the database and the demo content...", flush=True)
    manage("migrate", "--no-input", "-v", "0")
    manage("load_demo")
    celery = [PY, "-m", "celery", "-A", "arena.config", "--workdir", str(REPO / "platform")]
    processes = {
        "web": start("web", [PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"]),
        "worker": start("worker", [*celery, "worker", "-Q", "default,score,sandbox", "-c", "2",
                                   "--loglevel", "INFO"]),
        "beat": start("beat", [*celery, "beat", "--loglevel", "INFO"]),
    }
    password = os.environ.get("ARENA_DEMO_PASSWORD", "demo-pass-2026")
    print(
        f"\nAffectArena is running at http://{HOST}:{PORT}/\n"
        f"  organiser admin: http://{HOST}:{PORT}/admin/\n"
        f"  demo logins (password '{password}'): admin (superuser), mer-organiser, abaw-organiser,"
        " alice, bob\n"
        "Press Ctrl-C to stop every process.\n",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with status {proc.returncode}; stopping.", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        stop_all(processes)


if __name__ == "__main__":
    sys.exit(main())
