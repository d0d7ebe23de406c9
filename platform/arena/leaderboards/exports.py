"""CSV export of a stored leaderboard."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from arena.leaderboards.models import LeaderboardEntry


def leaderboard_csv(entries: Iterable[LeaderboardEntry], *, metric_names: list[str], split: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["rank"] + (["public_rank"] if split == "private" else []) + [
        "team", "method", "baseline", "score", *metric_names, "entries", "submitted_at", "submission_id"]
    writer.writerow(header)
    for e in entries:
        row = [e.rank if e.rank is not None else ""]
        if split == "private":
            row.append(e.public_rank if e.public_rank is not None else "")
        row += [e.team_name, e.method_name, "yes" if e.is_baseline else "", repr(float(e.score))]
        row += [repr(float(e.metrics[m])) if e.metrics.get(m) is not None else "" for m in metric_names]
        row += [e.entries_count, e.submitted_at.isoformat(), e.submission_id]
        writer.writerow(row)
    return out.getvalue()
