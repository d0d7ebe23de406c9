"""``arena leaderboard PHASE``: the whole board as a table, JSON, or the site's CSV."""

from __future__ import annotations

import sys
from argparse import Namespace

from arena.cli.client import ApiClient
from arena.cli.config import load_credentials
from arena.cli.errors import OK, UsageError
from arena.cli.output import emit_json, say, short_time, table

PAGE = 1000


def _all_rows(client: ApiClient, phase: int, split: str | None) -> dict:
    """The first page's header with the entries of every page."""
    board = client.get(f"/phases/{phase}/leaderboard", split=split, limit=PAGE, offset=0)
    split = board["split"]  # the phase's default when none was asked for
    entries = list(board["entries"])
    while len(entries) < board["count"]:
        page = client.get(f"/phases/{phase}/leaderboard", split=split, limit=PAGE, offset=len(entries))
        if not page["entries"]:
            break
        entries += page["entries"]
    board.update(entries=entries, offset=0, limit=len(entries))
    return board


def run_leaderboard(args: Namespace) -> int:
    if args.csv and args.json:
        raise UsageError("Choose one of --csv and --json.")
    client = ApiClient(load_credentials())
    if args.csv:
        response = client.request("GET", f"/phases/{args.phase}/leaderboard.csv", params={"split": args.split})
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return OK
    board = _all_rows(client, args.phase, args.split)
    if args.json:
        emit_json(board)
        return OK
    order = "higher is better" if board["greater_is_better"] else "lower is better"
    say(f"Phase {board['phase']}, {board['split']} leaderboard: {board['count']} row(s), ranked by "
        f"{board['primary_metric']} ({order}); refreshed {short_time(board['refreshed_at']) or 'never'}")
    extra = board["tie_break_metrics"]
    rows = [[entry["rank"] if entry["rank"] is not None else "-", entry["team_name"], entry["method_name"],
             entry["score"], *(entry["metrics"].get(name) for name in extra), entry["entries_count"]]
            for entry in board["entries"]]
    if rows:
        say(table(["rank", "team", "method", board["primary_metric"], *extra, "entries"], rows))
    else:
        say("No scored entries yet.")
    return OK
