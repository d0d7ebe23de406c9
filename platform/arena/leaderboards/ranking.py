"""Where an entry stands on a stored board, kept in place as one entry changes.

Each stored entry carries byte keys whose order is the board's order (best first): ``rank_key``
encodes the ranking tuple (the primary score, then each tie-break metric, oriented so larger is
better), ``order_key`` appends the submission time (earlier first) and the submission id. Placing
a changed entry is then an index lookup, and only the rows between its old and new place move:
their positions and competition ranks are rewritten by one set-based statement. The stored text of
their API rows does not hold the place (``LeaderboardEntry.row_head``), so it stays as it is.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from arena.leaderboards.models import LeaderboardEntry

_DOUBLE = struct.Struct(">d")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SIGN = 1 << 63
#: Longer than the time and id that ``order_key`` appends to ``rank_key``: bytes after every key with a prefix.
AFTER_PREFIX = b"\xff" * 17
#: Bumped when the encoding changes: boards keyed before are ranked in full once.
KEY_VERSION = 1


def _descending(value: float) -> bytes:
    """8 bytes whose byte order is the reverse of the float order (-0.0 is 0.0)."""
    (bits,) = struct.unpack(">Q", _DOUBLE.pack(-value + 0.0))
    return (bits ^ 0xFFFFFFFFFFFFFFFF if bits & _SIGN else bits | _SIGN).to_bytes(8, "big")


def rank_key(key: tuple[float, ...]) -> bytes:
    """The ranking tuple (larger is better, no NaN) as bytes that sort best first; equal tuples, equal bytes."""
    return b"".join(_descending(value) for value in key)


def order_key(ranking: bytes, submitted_at: datetime, submission_id: int) -> bytes:
    """``rank_key`` followed by the submission time (earlier first) and id (smaller first)."""
    micros = (submitted_at - _EPOCH) // timedelta(microseconds=1)
    return ranking + (micros + _SIGN).to_bytes(8, "big") + submission_id.to_bytes(8, "big")


def ranking_rule(scorer, tie_breaks: list[str]) -> str:
    """What the stored keys of a board depend on besides the entries: the metrics' directions."""
    directions = [scorer.greater_is_better, *[[name, scorer.metric_greater_is_better(name)] for name in tie_breaks]]
    return f"v{KEY_VERSION}:" + json.dumps(directions, separators=(",", ":"))


_TABLE = LeaderboardEntry._meta.db_table


@dataclass(frozen=True)
class Placed:
    """An entry's stored place: its row id, position, rank key and order key."""

    pk: int
    position: int
    rank_key: bytes
    order_key: bytes


def board_move(*, phase_id: int, board: str, old: Placed | None, new_order_key: bytes | None,
               new_rank_key: bytes | None, ranked: bool, public_rank_team: int | None = None
               ) -> tuple[int | None, int | None, int | None]:
    """Take ``old`` off the board and make room for an entry with the new keys (None: it leaves the board):
    the rows between the two places shift by one position, the ranked rows between the two rank keys by one
    rank (``ranked``: the entry is a team's, which baselines are not). Returns the new entry's position,
    rank and (``public_rank_team`` given: that team's rank on the public board), for the caller to insert it.
    """
    params: list = [phase_id, board]
    with connection.cursor() as cursor:
        if old is not None:
            cursor.execute(f"DELETE FROM {_TABLE} WHERE id = %s", [old.pk])
        position_terms, rank_terms, params_position, params_rank = [], [], [], []
        if new_order_key is not None:
            position_terms.append("(CASE WHEN order_key > %s THEN 1 ELSE 0 END)")
            params_position.append(new_order_key)
        if old is not None:
            position_terms.append("(CASE WHEN position > %s THEN -1 ELSE 0 END)")
            params_position.append(old.position)
        if ranked:
            if new_rank_key is not None:
                rank_terms.append("(CASE WHEN rank_key > %s THEN 1 ELSE 0 END)")
                params_rank.append(new_rank_key)
            if old is not None:
                rank_terms.append("(CASE WHEN rank_key > %s THEN -1 ELSE 0 END)")
                params_rank.append(old.rank_key)
        shift = " + ".join(position_terms) or "0"
        rank_shift = " + ".join(rank_terms) or "0"
        # Only rows between the two places (and, for ranks, between the two rank keys) can move.
        keys = [k for k in (new_order_key, old.order_key if old else None) if k is not None]
        bounds, bound_params = ["order_key >= %s"], [min(keys)]
        if new_order_key is not None and old is not None:
            highest = max(keys + ([max(new_rank_key, old.rank_key) + AFTER_PREFIX] if ranked else []))
            bounds.append("order_key <= %s")
            bound_params.append(highest)
        new_rank = f"rank + ({rank_shift})"
        new_position = f"position + ({shift})"
        cursor.execute(
            f"UPDATE {_TABLE} SET position = {new_position}, rank = {new_rank} "
            f"WHERE phase_id = %s AND split = %s AND {' AND '.join(bounds)} "
            f"AND (({shift}) <> 0 OR (rank IS NOT NULL AND ({rank_shift}) <> 0))",
            [*params_position, *params_rank, *params, *bound_params, *params_position, *params_rank])
        if new_order_key is None:
            return None, None, None
        # Its position follows the row just above; its rank is a tie's, the next ranked row's minus one,
        # or, last, one more than the ranked rows.
        above = (f"SELECT position FROM {_TABLE} WHERE phase_id = %s AND split = %s AND order_key < %s "
                 "ORDER BY order_key DESC LIMIT 1")
        rank = "NULL"
        rank_params: list = []
        if ranked:
            rank = (f"COALESCE((SELECT rank FROM {_TABLE} WHERE phase_id = %s AND split = %s AND order_key >= %s "
                    "AND order_key < %s AND rank_key = %s AND rank IS NOT NULL LIMIT 1), "
                    f"(SELECT rank - 1 FROM {_TABLE} WHERE phase_id = %s AND split = %s AND order_key > %s "
                    "AND rank IS NOT NULL ORDER BY order_key LIMIT 1), "
                    f"(SELECT count(*) + 1 FROM {_TABLE} WHERE phase_id = %s AND split = %s AND rank IS NOT NULL))")
            rank_params = [*params, new_rank_key, new_rank_key + AFTER_PREFIX, new_rank_key, *params,
                           new_order_key, *params]
        public_rank, public_params = "NULL", []
        if public_rank_team is not None:
            public_rank = (f"(SELECT rank FROM {_TABLE} WHERE phase_id = %s AND split = 'public' AND team_id = %s "
                           "AND NOT is_baseline LIMIT 1)")
            public_params = [phase_id, public_rank_team]
        cursor.execute(f"SELECT COALESCE(({above}), 0) + 1, {rank}, {public_rank}",
                       [*params, new_order_key, *rank_params, *public_params])
        return cursor.fetchone()


def entry_rewrite(*, pk: int, row_head: str, fields: dict) -> None:
    """Rewrite a stored entry's ``fields`` and the head of its API row in place; its place (position, rank,
    public rank), which other moves of the same refresh may have shifted, stays as stored."""
    LeaderboardEntry.stored.filter(pk=pk).update(**fields, row_head=row_head)


def public_ranks_follow(*, phase_id: int, low: bytes, high: bytes | None) -> int:
    """Give the private rows of the teams whose public rows lie between ``low`` and ``high`` (order keys;
    None: to the end) their public rank, where it changed; returns how many changed."""
    bound, params = ("AND order_key <= %s", [high]) if high is not None else ("", [])
    with connection.cursor() as cursor:
        # The public ranks first (an index range), then the private rows by team: two plans that stay cheap
        # whatever the planner knows of the table.
        cursor.execute(
            f"SELECT team_id, rank FROM {_TABLE} WHERE phase_id = %s AND split = 'public' AND NOT is_baseline "
            f"AND order_key >= %s {bound}", [phase_id, low, *params])
        found = cursor.fetchall()
        if not found:
            return 0
        teams, ranks = [team for team, _ in found], [rank for _, rank in found]
        cursor.execute(
            f"UPDATE {_TABLE} AS p SET public_rank = v.rank "
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(team_id, rank) WHERE p.phase_id = %s "
            f"AND p.split = 'private' AND p.team_id = ANY(%s::bigint[]) AND p.team_id = v.team_id "
            f"AND NOT p.is_baseline AND p.public_rank IS DISTINCT FROM v.rank",
            [teams, ranks, phase_id, teams])
        return cursor.rowcount


def public_rank_clear(*, phase_id: int, team_id: int) -> int:
    """The team left the public board: its private row has no public rank (returns 1 if it had one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET public_rank = NULL "
            "WHERE phase_id = %s AND split = 'private' AND team_id = %s AND NOT is_baseline "
            "AND public_rank IS NOT NULL", [phase_id, team_id])
        return cursor.rowcount


def statistics_clear(*, phase_id: int, boards: list[str]) -> None:
    """The boards' order changed: their entries' statistics no longer hold (the statistics lead each API row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {_TABLE} SET statistics = NULL, row_head = '{{' || substr(row_head, strpos(row_head, """
            f"""'"team_name":')) WHERE phase_id = %s AND split = ANY(%s) AND statistics IS NOT NULL""",
            [phase_id, boards])
