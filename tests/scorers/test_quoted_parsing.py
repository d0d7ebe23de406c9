"""Quoted CSV files: the numpy unquoting gives what the ``csv`` module gives, or defers to it."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from scorers import SubmissionFormatError
from scorers.parsing import TextColumn, parse_csv
from scorers.parsing import delimited as delimited_module
from scorers.parsing.quoted import unquote

HEADER = ("name", "labels")
COLUMNS = [TextColumn("labels")]


def outcome(data: bytes) -> tuple:
    """What ``parse_csv`` makes of ``data``: its rows, or its error message."""
    try:
        table = parse_csv(data, file="prediction", header=HEADER, key="name", columns=COLUMNS)
    except SubmissionFormatError as error:
        return ("error", str(error))
    return ("table", table.keys.tolist(), table.lines.tolist(), table["labels"].tolist())


def outcome_with_csv_module(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setattr(delimited_module, "unquote", lambda body: None)
        return outcome(data)


def unquoted(text: str) -> tuple[str, list[int]] | None:
    result = unquote(np.frombuffer(text.encode(), dtype=np.uint8))
    return None if result is None else (result[0].decode(), result[1].tolist())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a,"b,c"\n', ("a,b,c\n", [1, 5])),
        ('"a""b",""\n', ('a"b,\n', [3, 4])),
        ('""",x"\n', ('",x\n', [3])),
        ('"",""""\n', (',"\n', [0, 2])),
    ],
)
def test_well_formed_quoting_is_removed_and_separators_are_placed(text, expected):
    assert unquoted(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'a"b,c\n',  # a quote inside an unquoted cell
        ' "a",b\n',  # a blank before the opening quote
        '"a"b,c\n',  # text after the closing quote
        '"a,b\n',  # never closed
        '"a\nb",c\n',  # a line break inside a quoted cell
        '"a"""b",c\n',  # a lone quote inside
        'a,b\n""\nc,d\n',  # a row of one empty quoted cell, not a blank line
    ],
)
def test_other_quoting_is_left_to_the_csv_module(text):
    assert unquoted(text) is None


def test_well_formed_files_need_not_the_csv_module(monkeypatch):
    data = b'name,labels\n"a","[\'happy\', \'sad\']"\nb,"[""x"", ""y""]"\n'
    with monkeypatch.context() as patch:
        patch.setattr(delimited_module.csv, "reader", None)  # any use of the csv module would fail
        assert outcome(data) == ("table", [b"a", b"b"], [2, 3], ["['happy', 'sad']", '["x", "y"]'])


PIECES = ["a", "bc", "happy", " ", "'", '"', ",", "[", "]", "é", '""', "\t", "\n"]  # line break last


def random_cell(rng: np.random.Generator, pieces: list[str]) -> str:
    return "".join(rng.choice(pieces) for _ in range(int(rng.integers(0, 7))))


def written_by_csv_module(rng: np.random.Generator, rows: int) -> bytes:
    out = io.StringIO()
    quoting = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC][int(rng.integers(0, 3))]
    writer = csv.writer(out, quoting=quoting, lineterminator="\n")
    writer.writerow(HEADER)
    # Half the files hold no line break in a cell (the csv module is needed for those).
    pieces = PIECES if rng.random() < 0.5 else PIECES[:-1]
    for i in range(rows):
        writer.writerow([f"k{i}" + ("" if rng.random() < 0.8 else " x"), random_cell(rng, pieces)])
    return out.getvalue().encode()


def mangled(rng: np.random.Generator, data: bytes) -> bytes:
    """``data`` with a few bytes inserted or deleted: quotes, commas, blanks, newlines, letters."""
    text = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(0, len(text) + 1))
        if rng.random() < 0.3 and at < len(text):
            del text[at]
        else:
            text[at:at] = rng.choice([b'"', b",", b" ", b"\n", b"x", b'""'])
    return bytes(text)


def test_files_written_by_the_csv_module_read_alike_on_both_paths(monkeypatch):
    rng = np.random.default_rng(20261122)
    for _ in range(300):
        data = written_by_csv_module(rng, int(rng.integers(1, 12)))
        fast = outcome(data)
        assert fast == outcome_with_csv_module(data, monkeypatch), data


def test_damaged_quoting_reads_alike_or_fails_alike_on_both_paths(monkeypatch):
    rng = np.random.default_rng(11)
    kinds = set()
    for _ in range(1500):
        data = mangled(rng, written_by_csv_module(rng, int(rng.integers(1, 6))))
        fast = outcome(data)
        kinds.add(fast[0])
        assert fast == outcome_with_csv_module(data, monkeypatch), data
    assert kinds == {"table", "error"}
