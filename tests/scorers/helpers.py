"""Helpers shared by the scorer tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path:
    """The shared conformance folder (env ARENA_CONFORMANCE_DIR overrides the default)."""
    override = os.environ.get("ARENA_CONFORMANCE_DIR")
    return Path(override) if override else REPO_ROOT / ".." / "shared" / "conformance"


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m scorers ARGS`` from the repository root and capture its output."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "scorers", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def csv_bytes(*lines: str) -> bytes:
    """A UTF-8 file made of ``lines`` joined with newlines."""
    return ("\n".join(lines) + "\n").encode("utf-8")
