"""Every published conformance case, run through the command line exactly as the contract says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.conftest import require
from tests.scorers.helpers import conformance_dir, run_cli

RELATIVE = 1e-9


def _case_names() -> list[str]:
    cases = conformance_dir() / "cases"
    if not cases.is_dir():
        return ["<conformance folder absent>"]
    return sorted(path.name for path in cases.iterdir() if (path / "case.json").is_file())


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=RELATIVE, abs_tol=1e-12)


@pytest.mark.conformance
@pytest.mark.parametrize("name", _case_names())
def test_case(name: str) -> None:
    folder = conformance_dir() / "cases" / name
    require(folder.is_dir(), f"conformance folder {conformance_dir()} is absent")
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    args = ["score", "--track", case["track"], "--gold", "gold.csv", "--pred", "pred.csv"]
    if case.get("assets"):
        args += ["--assets", str(_absolute(conformance_dir() / case["assets"]))]
    for option, value in case.get("options", {}).items():
        args += ["--option", f"{option}={value}"]
    result = run_cli(*args, "--json", cwd=_absolute(folder))
    assert "Traceback" not in result.stderr
    if case.get("expect_error"):
        assert result.returncode != 0, f"{name} ({case.get('note')}) was accepted"
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n")
        assert len(result.stderr.strip()) > 20
        return
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = case["expected"]
    assert _close(payload["score"], expected["score"]), (payload["score"], expected["score"])
    for metric, value in expected["metrics"].items():
        assert metric in payload["metrics"], f"metric {metric!r} missing"
        assert _close(payload["metrics"][metric], value), (metric, payload["metrics"][metric])


def _absolute(folder: Path) -> Path:
    return folder.resolve()
