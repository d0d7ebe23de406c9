"""``make demo`` on the embedded defaults (no ``DATABASE_URL``: SQLite): the demo loads, its entries are ranked,
and its boards are read, conditional reads included. The rest of the suite runs on PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

READ_BOARDS = """
from django.test import Client
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
snapshot = LeaderboardSnapshot.objects.filter(split="public", rows__gte=2, phase__board_visibility="live").order_by(
    "pk").first()
url = f"/api/v1/phases/{snapshot.phase_id}/leaderboard"
first = Client(HTTP_HOST="127.0.0.1").get(url)  # a host name the embedded defaults serve
again = Client(HTTP_HOST="127.0.0.1").get(url, HTTP_IF_NONE_MATCH=first["ETag"])
ranks = [e["rank"] for e in first.json()["entries"] if e["rank"] is not None]
stored = list(LeaderboardEntry.objects.filter(phase_id=snapshot.phase_id, split="public", rank__isnull=False)
              .order_by("position").values_list("rank", flat=True))
print(first.status_code, again.status_code, ranks == sorted(ranks) == stored, len(ranks) >= 2)
"""


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_demo_loads_and_its_boards_read_on_the_embedded_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "ARENA_S3", "DJANGO_"))}
    env.update(ARENA_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="arena.config.settings.local")
    assert _manage("migrate", "--no-input", "-v", "0", env=env).returncode == 0
    loaded = _manage("load_demo", env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "Demo loaded:" in loaded.stdout and (tmp_path / "db.sqlite3").exists()
    read = _manage("shell", "-c", READ_BOARDS, env=env)
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.splitlines()[-1].split() == ["200", "304", "True", "True"]
