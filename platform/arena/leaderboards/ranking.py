"""Where an entry stands on a stored board, kept in place as one entry changes.

Each stored entry carries byte keys whose order is the board's order (best first): ``rank_key``
encodes the ranking tuple (the primary score, then each tie-break metric, oriented so larger is
better), ``order_key`` appends the submission time (earlier first) and the submission id. A board's
order is its order keys' (``arena.leaderboards.models.LeaderboardEntry`` numbers the rows when they are
read), so a changed entry is one row taken off and one written, whatever the size of the board. What the
change does to the others (who moved, whose public rank moved) is found by index lookups that stop at the
first row found.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta

from django.db import connection

from arena.leaderboards.models import StoredEntry

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


_TABLE = StoredEntry._meta.db_table


def passes_none(*, phase_id: int, board: str, old: bytes, new: bytes) -> bool:
    """Whether no other entry of the board lies between two order keys: an entry moving from one to the other
    (its old row already taken off) keeps its position."""
    low, high = sorted((old, new))
    return not StoredEntry.objects.filter(phase_id=phase_id, split=board, order_key__gt=low,
                                          order_key__lt=high).exists()


def public_ranks_change(*, phase_id: int, team_id: int, old: bytes | None, new: bytes | None) -> bool:
    """Whether a private row's public rank changes when ``team_id``'s public entry moves from rank key ``old``
    to ``new`` (None: not on the public board), the board's other entries as stored.

    A team's rank is one more than the teams strictly better (smaller rank key). Another team's moves when the
    mover passes it: its key lies after the lower of the two keys and up to the higher one (after the one key,
    entering or leaving). The mover's own moves when it enters or leaves, or passes a team whose key lies from the
    lower key up to, not including, the higher one. In order keys (the rank key then 16 bytes), "rank key after
    K" is "order key after K + AFTER_PREFIX" and "up to K" is "before K + AFTER_PREFIX". Each test stops at the
    first team found.
    """
    keys = sorted(k for k in (old, new) if k is not None)
    low, high = keys[0], keys[-1]
    public = (f"SELECT 1 FROM {_TABLE} AS pub WHERE pub.phase_id = %s AND pub.split = 'public' "
              "AND NOT pub.is_baseline AND pub.team_id <> %s")
    with_private = (f"EXISTS (SELECT 1 FROM {_TABLE} AS priv WHERE priv.phase_id = pub.phase_id "
                    "AND priv.split = 'private' AND priv.team_id = pub.team_id AND NOT priv.is_baseline)")
    bounds, params = "pub.order_key > %s", [phase_id, team_id, low + AFTER_PREFIX]
    if len(keys) == 2:
        bounds += " AND pub.order_key < %s"
        params.append(high + AFTER_PREFIX)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS ({public} AND {bounds} AND {with_private})", params)
        if cursor.fetchone()[0]:
            return True
        if len(keys) == 2:
            cursor.execute(f"SELECT EXISTS ({public} AND pub.order_key >= %s AND pub.order_key < %s)",
                           [phase_id, team_id, low, high])
            if not cursor.fetchone()[0]:
                return False  # it passed no one: its own rank stays
    return StoredEntry.objects.filter(phase_id=phase_id, split="private", team_id=team_id,
                                      is_baseline=False).exists()


def entry_rewrite(*, pk: int, row_head: str, fields: dict) -> None:
    """Rewrite a stored entry's ``fields`` and the head of its API row where it stands."""
    StoredEntry.objects.filter(pk=pk).update(**fields, row_head=row_head)
