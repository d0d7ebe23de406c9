"""Printing for people (aligned tables, short dates) and for scripts (one JSON document on stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def say(text: str = "") -> None:
    print(text)


def note(text: str) -> None:
    """A remark for the person at the terminal, kept off stdout so pipes see data only."""
    print(text, file=sys.stderr, flush=True)


def short_time(value: str | None) -> str:
    """``2026-03-01T12:00:00.123Z`` -> ``2026-03-01 12:00 UTC``; empty for None."""
    if not value:
        return ""
    return value[:16].replace("T", " ") + " UTC"


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[number(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
