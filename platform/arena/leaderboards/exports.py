"""Rendering stored leaderboard rows as JSON (once per change of a row) and CSV (once per change of a board,
by its first reader after the change, or by a full refresh)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable

import scorers
from arena.challenges.models import Phase
from arena.core.csv_safety import SafeCsvWriter
from arena.factsheets.selectors import factsheet_questions
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot, StoredEntry
from arena.leaderboards.selectors import leaderboard_protocol


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


def _head_as_dict(e: StoredEntry | LeaderboardEntry) -> dict:
    """The entry's API row but its place. The statistics come first: while a board's statistics are stale, the
    view ``LeaderboardEntry`` reads the stored head from ``"team_name"`` on (migration 0009)."""
    return {
        **entry_statistics(e),
        "team_name": e.team_name,
        "method_name": e.method_name, "is_baseline": e.is_baseline, "score": _number(e.score),
        "metrics": {k: _number(v) for k, v in e.metrics.items()}, "entries_count": e.entries_count,
        "submitted_at": e.submitted_at.isoformat().replace("+00:00", "Z"), "submission": e.submission_id,
        "answers": e.answers, "conditions": {name: _number(v) for name, v in (e.conditions or {}).items()},
    }


def entry_as_dict(e: LeaderboardEntry) -> dict:
    """The entry's API row: its head, then its place (which is not stored, ``LeaderboardEntry``)."""
    return {**_head_as_dict(e), "rank": e.rank, "public_rank": e.public_rank, "position": e.position}


def entry_row_json(e: LeaderboardEntry) -> str:
    """The entry's API row, as reads get it (``LeaderboardEntry.row_json``)."""
    return json.dumps(entry_as_dict(e), separators=(",", ":"), allow_nan=False)


def entry_row_head(e: StoredEntry | LeaderboardEntry) -> str:
    """What is stored of the entry's API row (``StoredEntry.row_head``): the row without its place, which ends
    it, and without the closing brace (``arena.leaderboards.models.row_json_expression`` adds both)."""
    return json.dumps(_head_as_dict(e), separators=(",", ":"), allow_nan=False)[:-1]


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


def leaderboard_csv_columns(phase: Phase, scorer) -> tuple[list[str], list[str], list[str]]:
    """The CSV's metric, condition and fact-sheet answer columns of the phase's boards."""
    protocol = leaderboard_protocol(phase)
    condition_names = protocol.names if protocol is not None else []
    answer_keys = list(factsheet_questions(phase).filter(on_leaderboard=True).values_list("key", flat=True))
    return list(scorer.metric_names), condition_names, answer_keys


def board_csv_render(*, phase: Phase, board: str) -> str:
    """The CSV of the board's stored rows as they are now."""
    metric_names, condition_names, answer_keys = leaderboard_csv_columns(phase, scorers.get_scorer(
        phase.track.scorer_key))
    entries = LeaderboardEntry.objects.filter(phase=phase, split=board).order_by("position")
    return leaderboard_csv(entries, metric_names=metric_names, split=board, answer_keys=answer_keys,
                           condition_names=condition_names)


def snapshot_csv(*, snapshot_id: int) -> str:
    """The CSV of a stored board, equal to its current rows: the stored one, or, when the rows changed since it
    was rendered (``LeaderboardSnapshot.csv_stale``), rendered now and stored unless the board moved meanwhile."""
    snapshot = LeaderboardSnapshot.objects.filter(pk=snapshot_id).select_related("phase__track").first()
    if snapshot is None:
        return ""
    if not snapshot.csv_stale:
        return snapshot.csv
    csv = board_csv_render(phase=snapshot.phase, board=snapshot.split)
    # Every change of the rows moves the refresh time: a board refreshed after the read above keeps its mark.
    LeaderboardSnapshot.objects.filter(pk=snapshot_id, refreshed_at=snapshot.refreshed_at, csv_stale=True).update(
        csv=csv, csv_stale=False)
    return csv
