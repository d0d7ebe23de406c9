"""Label cells are split exactly as the MER organisers split them."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from scorers.wheel import cells
from scorers.wheel.cells import parse_label_cell, split_list_cell
from scorers.wheel.scoring import LabelLists


@pytest.mark.parametrize(
    ("cell", "labels"),
    [
        ("['happy', 'sad']", ("happy", "sad")),
        ("[happy, sad]", ("happy", "sad")),
        ("happy, sad", ("happy", "sad")),
        ('["Happy" , SAD ]', ("happy", "sad")),
        ("", ()),
        ("[]", ()),
        ("[", ()),
        ("  ", ()),
        ("a,,b,", ("a", "b")),
        # only one bracket is dropped at each end, and only when it is the very first/last byte
        ("[[joy]]", ("[joy]",)),
        (" [joy, calm]", ("[joy", "calm")),
        # quotes split words, as in the organisers' code
        ("it's fine", ("it", "s fine")),
        ("  Feeling Down ,", ("feeling down",)),
        ("[' meh ']", ("meh",)),
    ],
)
def test_parse_label_cell(cell: str, labels: tuple[str, ...]) -> None:
    assert parse_label_cell(cell) == labels


def test_split_list_cell_keeps_case_and_repeats() -> None:
    assert split_list_cell("Joy, joy,'Joy'") == ["Joy", "joy", "Joy"]


def test_docstring_examples() -> None:
    result = doctest.testmod(cells)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("extra", [[], ["[İstanbul]", "naïve ,  CAFÉ", "\u3000joy\u00a0,\u2003,\x1f"],
                                   ["ΟΔΥΣΣΕΥΣ, Glück", "'ΑΣ', ΣΑ"]])
def test_all_cells_at_once_equal_cell_by_cell(extra: list[str]) -> None:
    cells = ["['happy', 'sad']", "", "[", "[]", " [joy, calm]", "a,,b,", '"x" , Y ', "it's",
             "[[joy]]", "  ", "[' meh ']", "JOY, joy", *extra]
    lists = LabelLists.from_cells(cells)
    assert len(lists) == len(cells)
    assert [lists.of(i) for i in range(len(cells))] == [list(parse_label_cell(c)) for c in cells]
    assert lists.entry.tolist() == [i for i, c in enumerate(cells) for _ in parse_label_cell(c)]


def test_no_entries() -> None:
    for lists in (LabelLists.from_cells([]), LabelLists.from_utf8(np.array([], dtype="S8"))):
        assert (len(lists), lists.labels, lists.entry.tolist()) == (0, [], [])


def test_entries_given_as_label_tuples() -> None:
    lists = LabelLists.from_cells([("Happy ", " SAD"), "joy", ()])
    assert [lists.of(i) for i in range(3)] == [["happy", "sad"], ["joy"], []]


def test_the_blank_table_matches_str_isspace() -> None:
    from scorers.wheel.scoring import WHITESPACE

    assert WHITESPACE == tuple(c for c in range(0x110000) if chr(c).isspace())


@pytest.mark.parametrize(("seed", "alphabet"), [
    (1, "ab Z,'\"[] \t\u3000\u00a0İΣσÉ-’"),
    (2, "ab Z,'\"[] \t\u3000\u00a0İΣσÉ-’"),
    # ASCII only: every blank str.strip() removes, the separators, brackets, letters of both cases
    (3, "aZq ,'\"[]\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f-_"),
    (4, "ab[]',  "),
])
def test_random_cells_at_once_equal_cell_by_cell(seed: int, alphabet: str) -> None:
    import random

    rng = random.Random(seed)
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
             for _ in range(400)]
    expected = [list(parse_label_cell(c)) for c in cells]
    lists = LabelLists.from_cells(cells)
    assert [lists.of(i) for i in range(len(cells))] == expected
    # as a CSV column is read: the cells' UTF-8 bytes in one fixed-width array
    column = np.array([c.encode("utf-8") for c in cells], dtype=bytes)
    from_bytes = LabelLists.from_utf8(column)
    assert [from_bytes.of(i) for i in range(len(cells))] == expected
    assert from_bytes.entry.tolist() == lists.entry.tolist()
