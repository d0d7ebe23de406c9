"""Strict CSV parsing: accepted variants, and one exact, row-numbered message per bad input."""

from __future__ import annotations

import numpy as np
import pytest

from scorers import SubmissionFormatError
from scorers.parsing import LabelColumn, NumberColumn, TextColumn, locate_keys, parse_csv
from scorers.parsing import keys as keys_module
from scorers.parsing.keys import check_unique_keys, key_index
from tests.scorers.helpers import csv_bytes

HEADER = ("name", "valence", "emotion")
COLUMNS = [NumberColumn("valence", -1.0, 1.0), LabelColumn("emotion", ("happy", "sad"))]


def parse(data: bytes, *, file: str = "prediction", header=HEADER, columns=COLUMNS):
    return parse_csv(data, file=file, header=header, key="name", columns=columns)


def error_of(data: bytes, **kwargs) -> str:
    with pytest.raises(SubmissionFormatError) as caught:
        parse(data, **kwargs)
    return str(caught.value)


def test_plain_file_is_read_into_aligned_columns():
    table = parse(csv_bytes("name,valence,emotion", "a,0.25,happy", "b,-1,sad"))
    assert table.keys.tolist() == [b"a", b"b"]
    assert table.lines.tolist() == [2, 3]
    assert table["valence"].tolist() == [0.25, -1.0]
    assert table["emotion"].tolist() == [0, 1]


def test_bom_crlf_blank_lines_blanks_and_missing_final_newline_are_accepted():
    data = b"\xef\xbb\xbfname,valence,emotion\r\n\r\n a ,  0.5 , happy \r\nb,1e-1,sad"
    table = parse(data)
    assert table.keys.tolist() == [b"a", b"b"]
    assert table.lines.tolist() == [3, 4]
    assert table["valence"].tolist() == [0.5, 0.1]
    assert table["emotion"].tolist() == [0, 1]


def test_quoted_cells_are_unquoted_and_text_is_kept_as_written():
    data = csv_bytes("name,labels", "\"a\",\"['happy', 'sad']\"", 'b," x, ""y"" "', "c,")
    table = parse(data, header=("name", "labels"), columns=[TextColumn("labels")])
    assert table.keys.tolist() == [b"a", b"b", b"c"]
    assert table["labels"].tolist() == ["['happy', 'sad']", ' x, "y" ', ""]
    assert table.lines.tolist() == [2, 3, 4]


def test_quoted_and_plain_paths_agree_on_random_files():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        keys = [f"k{i}_" + "x" * int(rng.integers(0, 25)) for i in range(n)]
        values = [repr(round(float(v), int(rng.integers(0, 9)))) for v in rng.uniform(-1, 1, n)]
        plain = csv_bytes("name,valence", *(f"{k},{v}" for k, v in zip(keys, values, strict=True)))
        quoted = csv_bytes("name,valence", *(f'"{k}",{v}' for k, v in zip(keys, values, strict=True)))
        columns = [NumberColumn("valence")]
        a = parse(plain, header=("name", "valence"), columns=columns)
        b = parse(quoted, header=("name", "valence"), columns=columns)
        assert a.keys.tolist() == b.keys.tolist() == [k.encode() for k in keys]
        assert a["valence"].tolist() == b["valence"].tolist() == [float(v) for v in values]


def test_headerless_files_and_long_last_cells():
    table = parse_csv(
        b"Videos/1/a.mp4,1\nVideos/22222222/bbbbbbbbbbbbbbbbbbbb.mp4,0",
        file="gold",
        header=None,
        key="path",
        columns=[NumberColumn("label", 0, 1, integer=True)],
    )
    assert table.keys.tolist() == [b"Videos/1/a.mp4", b"Videos/22222222/bbbbbbbbbbbbbbbbbbbb.mp4"]
    assert table["label"].tolist() == [1.0, 0.0]


def test_sentinel_values_are_accepted_only_where_declared():
    column = [NumberColumn("valence", -1.0, 1.0, missing=-5.0)]
    table = parse(csv_bytes("name,valence", "a,-5", "b,-5.0", "c,0.5"), header=("name", "valence"), columns=column)
    assert table["valence"].tolist() == [-5.0, -5.0, 0.5]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "prediction file: the file is empty; write the header line and then one row per sample"),
        (b" \r\n\n", "prediction file: the file is empty; write the header line and then one row per sample"),
        (
            b"name,valence,emotion\na,0.5,happy\nb,\xff\xfe,sad\n",
            "prediction file, line 3: the file is not UTF-8 text (byte 0xff cannot be decoded); save the file as UTF-8",
        ),
        (
            b"name,valence,emotion\na,0.5,happy\x00\n",
            "prediction file, line 2: the file contains a NUL byte; save the file as UTF-8 text (not UTF-16)",
        ),
        (
            csv_bytes("name,valence,emotion"),
            "prediction file: the file holds no rows; write one row per sample below the header",
        ),
        (
            csv_bytes("name,arousal,emotion", "a,0.5,happy"),
            "prediction file, line 1, column 'valence': the header names 'arousal' where 'valence' "
            "is expected; the first line must be name,valence,emotion",
        ),
        (
            csv_bytes("name,valence", "a,0.5"),
            "prediction file, line 1: the header lacks 'emotion'; the first line must be name,valence,emotion",
        ),
        (
            csv_bytes("name,valence,emotion,extra", "a,0.5,happy"),
            "prediction file, line 1: the header has an extra column 'extra'; the first line must "
            "be name,valence,emotion",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.5,happy", "b,0.5"),
            "prediction file, line 3: the row has 2 columns, expected 3 (name,valence,emotion); "
            "write one value per column, separated by commas",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.5,happy,1"),
            "prediction file, line 2: the row has 4 columns, expected 3 (name,valence,emotion); "
            "write one value per column, separated by commas",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.5,happy", ",0.5,sad"),
            "prediction file, line 3, column 'name': empty name; every row needs a name",
        ),
        (
            csv_bytes("name,valence,emotion", "a,abc,happy"),
            "prediction file, line 2, column 'valence': 'abc' is not a number; write a number in [-1, 1], like 0.25",
        ),
        (
            csv_bytes("name,valence,emotion", "a,,happy"),
            "prediction file, line 2, column 'valence': empty value; write a number in [-1, 1], like 0.25",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.1,happy", "b,NaN,happy"),
            "prediction file, line 3, column 'valence': 'NaN' is not a finite number; write a "
            "number in [-1, 1], like 0.25",
        ),
        (
            csv_bytes("name,valence,emotion", "a,-inf,happy"),
            "prediction file, line 2, column 'valence': '-inf' is not a finite number; write a "
            "number in [-1, 1], like 0.25",
        ),
        (
            csv_bytes("name,valence,emotion", "a,1.5,happy"),
            "prediction file, line 2, column 'valence': '1.5' is outside [-1, 1]; write a number in [-1, 1], like 0.25",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.5,joyful"),
            "prediction file, line 2, column 'emotion': 'joyful' is not a label of this track; use one of happy, sad",
        ),
        (
            csv_bytes("name,valence,emotion", "a,0.5,"),
            "prediction file, line 2, column 'emotion': empty value; write one of happy, sad",
        ),
        (
            csv_bytes("name,valence,emotion", 'a,0.5,"happy', "b,0.5,sad"),
            "prediction file, line 3: cannot read the quoting (unexpected end of data); put the "
            "whole cell in double quotes and double every quote inside it",
        ),
        (
            csv_bytes("name,valence,emotion", '"a",0.5', "b,0.5,sad"),
            "prediction file, line 2: the row has 2 columns, expected 3 (name,valence,emotion); "
            "write one value per column, separated by commas",
        ),
    ],
)
def test_bad_files_raise_one_exact_message(data: bytes, message: str):
    assert error_of(data) == message


def test_the_earliest_bad_cell_is_reported_across_columns():
    data = csv_bytes("name,valence,emotion", "a,0.5,happy", "b,0.5,angry", "c,9,happy")
    assert error_of(data) == (
        "prediction file, line 3, column 'emotion': 'angry' is not a label of this track; use one of happy, sad"
    )


def test_error_attributes_name_file_row_and_column():
    with pytest.raises(SubmissionFormatError) as caught:
        parse(csv_bytes("name,valence,emotion", "a,x,happy"), file="gold")
    error = caught.value
    assert (error.file, error.row, error.column) == ("gold", 2, "valence")
    assert error.message == "'x' is not a number; write a number in [-1, 1], like 0.25"


def test_whole_number_columns_reject_fractions_and_accept_written_floats():
    column = [NumberColumn("cls", 0, 7, integer=True, example="2")]
    table = parse(csv_bytes("name,cls", "a,3", "b,3.0", "c, 7 "), header=("name", "cls"), columns=column)
    assert table["cls"].tolist() == [3.0, 3.0, 7.0]
    assert error_of(csv_bytes("name,cls", "a,2.5"), header=("name", "cls"), columns=column) == (
        "prediction file, line 2, column 'cls': '2.5' is not a whole number; write a whole number in [0, 7], like 2"
    )
    assert error_of(csv_bytes("name,cls", "a,8"), header=("name", "cls"), columns=column) == (
        "prediction file, line 2, column 'cls': '8' is outside [0, 7]; write a whole number in [0, 7], like 2"
    )


def test_duplicate_keys_report_the_second_occurrence_and_the_first():
    table = parse(csv_bytes("name,valence,emotion", "a,0,happy", "b,0,happy", "c,0,sad", "b,0,sad", "a,0,sad"))
    with pytest.raises(SubmissionFormatError) as caught:
        check_unique_keys(table, column="name")
    assert str(caught.value) == (
        "prediction file, line 5, column 'name': 'b' appears twice (also on line 3); keep one row per key"
    )


def test_locate_keys_for_same_order_shuffled_subset_and_missing():
    keys = np.array([b"a", b"b", b"c", b"d"])
    assert locate_keys(keys, keys).tolist() == [0, 1, 2, 3]
    assert locate_keys(keys, keys[::-1]).tolist() == [3, 2, 1, 0]
    assert locate_keys(keys, np.array([b"c", b"a"])).tolist() == [2, 0]
    assert locate_keys(keys, np.array([b"c", b"zz"]), missing_ok=True).tolist() == [2, -1]
    with pytest.raises(KeyError):
        locate_keys(keys, np.array([b"zz"]))


def test_hash_collisions_never_change_results(monkeypatch):
    monkeypatch.setattr(keys_module, "key_hashes", lambda keys: np.zeros(len(keys), np.uint64))
    keys = np.array([b"a", b"b", b"c", b"d"])
    assert locate_keys(keys, np.array([b"d", b"b", b"a", b"c"])).tolist() == [3, 1, 0, 2]
    assert locate_keys(keys, np.array([b"c", b"x"]), missing_ok=True).tolist() == [2, -1]
    assert keys_module.first_duplicate(key_index(keys)) is None
    assert keys_module.first_duplicate(key_index(np.array([b"a", b"b", b"a"]))) == (0, 2)


def test_semicolon_separated_files_get_a_hint():
    assert error_of(b"name;valence;emotion\na;0.5;happy\n") == (
        "prediction file, line 1: the header 'name;valence;emotion' is not separated by commas; "
        "save the file as CSV with commas, the first line being name,valence,emotion"
    )


def test_labels_are_case_sensitive_as_in_the_organisers_tables():
    assert error_of(csv_bytes("name,valence,emotion", "a,0.5,Happy")) == (
        "prediction file, line 2, column 'emotion': 'Happy' is not a label of this track; use one of happy, sad"
    )


def test_plain_ascii_files_are_split_in_one_pass_and_others_take_the_careful_path(monkeypatch):
    from scorers.parsing import delimited

    plain = csv_bytes("name,valence,emotion", "a,0.25,happy", " b ,-1,sad")
    others = [
        b"\xef\xbb\xbf" + plain,  # BOM
        plain.replace(b"\n", b"\r\n"),  # CR line ends
        plain[:-1],  # no final newline
        plain.replace(b"a,", "é,".encode()),  # not ASCII
        plain.replace(b"a,", b'"a",'),  # quoted
    ]
    expected = [parse(data) for data in [plain, *others]]
    careful = []
    real = delimited.prepare_text
    monkeypatch.setattr(delimited, "prepare_text",
                        lambda data, *, file: careful.append(data) or real(data, file=file))
    again = [parse(data) for data in [plain, *others]]
    assert careful == others
    for a, b in zip(expected, again, strict=True):
        assert (a.keys.tolist(), a.lines.tolist(), a["valence"].tolist(), a["emotion"].tolist()) == (
            b.keys.tolist(), b.lines.tolist(), b["valence"].tolist(), b["emotion"].tolist())
    for bad in (plain.replace(b"0.25", b"0.2\x005"), b" \n\n"):
        with pytest.raises(SubmissionFormatError):
            parse(bad)
    assert careful[-2:] == [plain.replace(b"0.25", b"0.2\x005"), b" \n\n"]
