"""Published candidate lists.

MER's semi-supervised, fine-grained, cross-domain and preference tracks publish a list of
candidate clips and hide the test clips among them. Where a list is given, a prediction is
checked against the list alone: one row per candidate and no other key. Every message names
candidates only and counts them against the list, so nothing in it (status, text, row, count)
depends on which candidates are the hidden test keys. Scoring then takes the test keys.
"""

from __future__ import annotations

import codecs
import os

import numpy as np

from scorers.errors import SubmissionFormatError, quote_cell
from scorers.parsing.keys import KeyIndex, first_duplicate, key_index, locate_keys
from scorers.parsing.source import read_source
from scorers.parsing.table import Table

FILE = "candidates"


def _text_of(source: str | os.PathLike | bytes) -> bytes:
    return bytes(read_source(source, file=FILE))


def read_candidates(source: str | os.PathLike | bytes, *, key_column: str) -> KeyIndex:
    """The keys of a candidate list: a CSV whose first column is ``key_column`` (other columns are
    ignored), one candidate per line. Raises ``SubmissionFormatError`` with ``file="candidates"``."""
    data = _text_of(source)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise SubmissionFormatError("the candidate list is not UTF-8 text", file=FILE) from None
    header = lines[0].split(",")[0].strip().strip('"') if lines else ""
    if header != key_column:
        raise SubmissionFormatError(f"the first column of the candidate list must be '{key_column}'",
                                    file=FILE, row=1)
    keys = [line.split(",", 1)[0].strip().strip('"') for line in lines[1:] if line.strip()]
    if not keys:
        raise SubmissionFormatError("the candidate list names no candidate", file=FILE)
    index = key_index(np.array([k.encode() for k in keys], dtype=bytes))
    duplicate = first_duplicate(index)
    if duplicate is not None:
        raise SubmissionFormatError(f"candidate {quote_cell(keys[duplicate[1]])} is listed twice", file=FILE)
    return index


def check_against_candidates(pred: Table, candidates: KeyIndex, *, key_column: str) -> None:
    """Exactly one prediction row per candidate, and no other key (duplicates are refused before)."""
    found = locate_keys(pred.key_index, candidates, missing_ok=True)
    missing = np.flatnonzero(found < 0)
    if missing.size:
        first = candidates.keys[missing[0]].decode("utf-8")
        raise SubmissionFormatError(
            f"no row for {key_column} {quote_cell(first)} "
            f"({missing.size} of {len(candidates.keys)} candidates have no row); "
            "write one row for every candidate of the published list",
            file=pred.file, column=key_column,
        )
    if len(pred) != len(candidates.keys):
        used = np.zeros(len(pred), dtype=bool)
        used[found] = True
        extra = int(np.flatnonzero(~used)[0])
        raise SubmissionFormatError(
            f"{quote_cell(pred.key_text(extra))} is not a candidate; write rows for the published candidates only",
            file=pred.file, row=int(pred.lines[extra]), column=key_column,
        )


def check_golds_are_candidates(golds: list[Table], candidates: KeyIndex) -> None:
    """Every reference key must be a candidate: the organisers' set-up, never the team's file."""
    for gold in golds:
        found = locate_keys(candidates, gold.key_index, missing_ok=True)
        outside = np.flatnonzero(found < 0)
        if outside.size:
            raise SubmissionFormatError(
                f"{outside.size} reference key(s) are not in the candidate list, e.g. "
                f"{quote_cell(gold.keys[outside[0]])}; publish a list that covers the reference",
                file="gold",
            )
