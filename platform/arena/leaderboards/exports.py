"""Rendering stored leaderboard rows as JSON and CSV (done once per refresh, not per read)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable

from arena.core.csv_safety import SafeCsvWriter
from arena.leaderboards.models import LeaderboardEntry


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def entry_as_dict(e: LeaderboardEntry) -> dict:
    return {
        "rank": e.rank, "public_rank": e.public_rank, "position": e.position, "team_name": e.team_name,
        "method_name": e.method_name, "is_baseline": e.is_baseline, "score": _number(e.score),
        "metrics": {k: _number(v) for k, v in e.metrics.items()}, "entries_count": e.entries_count,
        "submitted_at": e.submitted_at.isoformat().replace("+00:00", "Z"), "submission": e.submission_id,
        "answers": e.answers, "conditions": {name: _number(v) for name, v in (e.conditions or {}).items()},
    }


def leaderboard_csv(entries: Iterable[LeaderboardEntry], *, metric_names: list[str], split: str,
                    answer_keys: list[str] = (), condition_names: list[str] = ()) -> str:
    """The board as CSV; team and method names (and fact-sheet answers, one column per ``answer_keys``) that a
    spreadsheet would run as formulas come out as text (``arena.core.csv_safety``), scores as numbers. On a
    phase with a robustness protocol, a ``condition:<name>`` column per condition follows the metrics."""
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\n")
    header = ["rank"] + (["public_rank"] if split == "private" else []) + [
        "team", "method", "baseline", "score", *metric_names, *[f"condition:{name}" for name in condition_names],
        "entries", "submitted_at", "submission_id", *answer_keys]
    writer.writerow(header)
    for e in entries:
        row = [e.rank if e.rank is not None else ""]
        if split == "private":
            row.append(e.public_rank if e.public_rank is not None else "")
        row += [e.team_name, e.method_name, "yes" if e.is_baseline else "", float(e.score)]
        row += [float(e.metrics[m]) if e.metrics.get(m) is not None else "" for m in metric_names]
        conditions = e.conditions or {}
        row += [float(conditions[c]) if conditions.get(c) is not None else "" for c in condition_names]
        row += [e.entries_count, e.submitted_at.isoformat(), e.submission_id]
        row += [e.answers.get(key, "") for key in answer_keys]
        writer.writerow(row)
    return out.getvalue()
