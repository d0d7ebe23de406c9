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


#: The CSV columns of the board statistics (``arena.leaderboards.statistics``), once they are computed.
STATISTICS_COLUMNS = ["interval_low", "interval_high", "interval_level", "p_vs_next", "rank_best", "rank_worst",
                      "tie_group"]


def entry_statistics(e: LeaderboardEntry) -> dict:
    """The entry's ``interval``, ``p_vs_next``, ``rank_range`` and ``tie_group`` as the API sends them;
    empty before the board's statistics are computed (and on tracks without them)."""
    stats = e.statistics
    if not stats:
        return {}
    return {"interval": stats.get("interval"), "p_vs_next": stats.get("p_vs_next"),
            "rank_range": stats.get("rank_range"), "tie_group": stats.get("tie_group")}


def entry_as_dict(e: LeaderboardEntry) -> dict:
    return {
        "rank": e.rank, "public_rank": e.public_rank, "position": e.position, "team_name": e.team_name,
        "method_name": e.method_name, "is_baseline": e.is_baseline, "score": _number(e.score),
        "metrics": {k: _number(v) for k, v in e.metrics.items()}, "entries_count": e.entries_count,
        "submitted_at": e.submitted_at.isoformat().replace("+00:00", "Z"), "submission": e.submission_id,
        "answers": e.answers, "conditions": {name: _number(v) for name, v in (e.conditions or {}).items()},
        **entry_statistics(e),
    }


def _statistics_cells(e: LeaderboardEntry) -> list:
    stats = entry_statistics(e)
    interval = stats.get("interval") or {}
    ranks = stats.get("rank_range") or ["", ""]
    return [_blank(interval.get("low")), _blank(interval.get("high")), _blank(interval.get("level")),
            _blank(stats.get("p_vs_next")), ranks[0], ranks[1], _blank(stats.get("tie_group"))]


def _blank(value):
    return "" if value is None else value


def leaderboard_csv(entries: Iterable[LeaderboardEntry], *, metric_names: list[str], split: str,
                    answer_keys: list[str] = (), condition_names: list[str] = ()) -> str:
    """The board as CSV; team and method names (and fact-sheet answers, one column per ``answer_keys``) that a
    spreadsheet would run as formulas come out as text (``arena.core.csv_safety``), scores as numbers. On a
    phase with a robustness protocol, a ``condition:<name>`` column per condition follows the metrics. Once
    the board's statistics are computed, ``STATISTICS_COLUMNS`` follow the scores (empty cells for entries
    without them)."""
    entries = list(entries)
    with_statistics = any(e.statistics for e in entries)
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\n")
    header = ["rank"] + (["public_rank"] if split == "private" else []) + [
        "team", "method", "baseline", "score", *metric_names, *[f"condition:{name}" for name in condition_names],
        *(STATISTICS_COLUMNS if with_statistics else []), "entries", "submitted_at", "submission_id", *answer_keys]
    writer.writerow(header)
    for e in entries:
        row = [e.rank if e.rank is not None else ""]
        if split == "private":
            row.append(e.public_rank if e.public_rank is not None else "")
        row += [e.team_name, e.method_name, "yes" if e.is_baseline else "", float(e.score)]
        row += [float(e.metrics[m]) if e.metrics.get(m) is not None else "" for m in metric_names]
        conditions = e.conditions or {}
        row += [float(conditions[c]) if conditions.get(c) is not None else "" for c in condition_names]
        if with_statistics:
            row += _statistics_cells(e)
        row += [e.entries_count, e.submitted_at.isoformat(), e.submission_id]
        row += [e.answers.get(key, "") for key in answer_keys]
        writer.writerow(row)
    return out.getvalue()
