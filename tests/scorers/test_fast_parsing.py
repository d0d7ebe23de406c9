"""The fast parts of the CSV reader against plain reference implementations, on seeded random
files: the same tables (keys, line numbers, and values bit for bit) or the same error.

The references: Python's ``bytes.split`` for cutting rows into cells, numpy's ``astype`` (Python's
``float``) for numbers, and ``argsort`` for ordering key hashes.
"""

from __future__ import annotations

import numpy as np
import pytest

from scorers import SubmissionFormatError, get_scorer
from scorers.parsing import cells as cells_module
from scorers.parsing import columns as columns_module
from scorers.parsing import decimals as decimals_module
from scorers.parsing import delimited as delimited_module
from scorers.parsing import keys as keys_module
from scorers.parsing.decimals import decimal_values, short_decimals

VA_HEADER = "image_location,valence,arousal"
AU_HEADER = "image_location,AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26"
EXPR_HEADER = "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
MTL_HEADER = "image,valence,arousal,expression,aus"
EMI_HEADER = "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy"

ODD_NUMBERS = [
    "-0",
    "-0.0",
    "0",
    "1.",
    ".5",
    "-.5",
    "+0.5",
    " 0.5",
    "0.5 ",
    "\t0.5",
    "1_0",
    "nan",
    "-inf",
    "inf",
    "",
    " ",
    "-",
    ".",
    "--1",
    "0..1",
    "1.2.3",
    "0x1",
    "1e",
    "0.5a",
    "a",
    "5",
    "-5",
    "-5.0",
    "9.99999999999999",
    "0.30000000000000004",
    "1e-05",
    "-1",
    "1",
    "1.0000000000000000000001",
    "0.12345678901234",
    "-0.1234567890123",
    "0.123456789012345",
    "2",
    "-2",
    "10",
    "-10",
    "01",
    "00.5",
    "0.5.",
    "5-",
    "1 0",
    "\x0b0.5",
    "0.5\x0c",
    "\x1c0.5",
    "0\x7f",
    "1e0",
    "+1",
    "-0.99999999999999",
    "9.5",
    "0.5e1",
]
ODD_NUMBERS += ["15", "-25.5", "0.1234567a", "0.123456.8", "-1.2345678 9", "0.12345678901234\x0b"]
SHORT_INTEGERS = ["0", "1", "-1", "2", "7", "8", "-2", "1.0", " 1", "1 ", "01", "-0", "+1", "1e0", "10", "", "x", "0.5"]
MER_LABELS = ["neutral", "angry", "happy", "sad", "worried", "surprise"]
KEY_CHARS = "abcxyz0189_-/.:ABC #;|é\t"


def _digits(rng: np.random.Generator, count: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, count))


def _number(rng: np.random.Generator) -> str:
    """A number in [-1, 1] written in one of the ways programs write numbers."""
    kind = rng.integers(0, 5)
    if kind <= 1:  # the common shape: [-]d.ddd
        sign = "-" if rng.random() < 0.5 else ""
        fraction = _digits(rng, int(rng.integers(0, 16)))
        return f"{sign}0" + (f".{fraction}" if fraction or rng.random() < 0.2 else "")
    if kind == 2:
        return repr(float(rng.uniform(-1, 1)))
    if kind == 3:
        return f"{rng.uniform(-1, 1):.{rng.integers(0, 8)}e}"
    return str(int(rng.integers(-1, 2))) + (".0" if rng.random() < 0.3 else "")


def _odd(rng: np.random.Generator) -> str:
    return ODD_NUMBERS[int(rng.integers(len(ODD_NUMBERS)))]


def _cell(rng: np.random.Generator, kind: str, noisy: bool) -> str:
    if noisy and rng.random() < 0.08:
        if kind == "label":
            return [" happy", "Happy", "joy", "", "sad "][int(rng.integers(5))]
        return _odd(rng) if kind == "number" else SHORT_INTEGERS[int(rng.integers(len(SHORT_INTEGERS)))]
    if kind == "number":
        return _number(rng) if rng.random() > 0.02 else "-5"
    if kind == "class":
        return str(int(rng.integers(-1, 8)))
    if kind == "label":
        return MER_LABELS[int(rng.integers(len(MER_LABELS)))]
    return str(int(rng.integers(-1, 2)) if rng.random() < 0.1 else int(rng.integers(0, 2)))


def _key(rng: np.random.Generator, index: int, noisy: bool) -> str:
    extra = "".join(KEY_CHARS[i] for i in rng.integers(0, len(KEY_CHARS), int(rng.integers(0, 30))))
    key = f"{extra}{index}"
    if noisy and rng.random() < 0.05:
        key = " " + key
    if noisy and rng.random() < 0.05:
        key = key + "\t"
    if noisy and rng.random() < 0.01:
        key = "  "
    return key


def _file(rng: np.random.Generator, header: str, kinds: list[str]) -> bytes:
    """A random file under ``header`` with one cell of each kind per row; half of the files are
    noisy: odd cells, blanks around keys, missing or extra cells, a header with blanks."""
    noisy = rng.random() < 0.5
    rows = [header if not noisy or rng.random() > 0.1 else header.replace(",", " ,", 1)]
    for index in range(int(rng.integers(1, 40))):
        values = [_cell(rng, kind, noisy) for kind in kinds]
        if noisy and rng.random() < 0.02:
            values.pop()
        if noisy and rng.random() < 0.02:
            values.append("0")
        rows.append(",".join([_key(rng, index, noisy), *values]))
        if rng.random() < 0.03:
            rows.append("")
    text = "\n".join(rows) + ("\n" if rng.random() < 0.9 else "")
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if rng.random() < 0.05 else data


def _reference_cells(text: bytes, row_starts: np.ndarray, bounds: np.ndarray, *, strip_keys: bool) -> list[np.ndarray]:
    """Rows cut at their commas with ``bytes.split``; keys always lose blanks around them."""
    assert all(start == 0 or text[start - 1 : start] == b"\n" for start in row_starts.tolist())
    rows = [text[start : text.index(b"\n", start)].split(b",") for start in row_starts.tolist()]
    assert all(len(row) == bounds.shape[1] for row in rows)
    return [
        np.array([row[column].strip(b" \t") if column == 0 else row[column] for row in rows], dtype=bytes)
        for column in range(bounds.shape[1])
    ]


def _outcome(parse):
    """What a parse gives, in a form that compares keys and lines by value and every column by
    dtype and bytes."""
    try:
        table = parse()
    except SubmissionFormatError as error:
        return ("error", str(error))
    columns = {name: (values.dtype.str, values.tobytes()) for name, values in table.columns.items()}
    return ("table", table.keys.tolist(), table.lines.tolist(), columns)


@pytest.fixture
def reference(monkeypatch):
    """Run a parse with the reference implementations in place of the fast parts."""

    def run(parse):
        with monkeypatch.context() as patch:
            patch.setattr(delimited_module, "cells_by_column", _reference_cells)
            patch.setattr(columns_module, "decimal_values", lambda cells: cells.astype(np.float64))
            patch.setattr(columns_module, "_small_integers", lambda cells: None)
            return _outcome(parse)

    return run


@pytest.fixture(params=["default blocks", "tiny blocks"])
def blocks(request, monkeypatch):
    """Run each fuzz case also with tiny block sizes, so that block boundaries fall everywhere."""
    if request.param == "tiny blocks":
        monkeypatch.setattr(cells_module, "_SCAN_BLOCK", 16)
        monkeypatch.setattr(cells_module, "_ROW_BLOCK", 7)
        monkeypatch.setattr(decimals_module, "_BLOCK", 5)
        monkeypatch.setattr(keys_module, "_BLOCK", 6)
    return request.param


@pytest.mark.parametrize(
    ("track", "header", "kinds"),
    [
        ("abaw.va", VA_HEADER, ["number"] * 2),
        ("abaw.au", AU_HEADER, ["flag"] * 12),
        ("abaw.expr", EXPR_HEADER, ["class"]),
        ("abaw.mtl", MTL_HEADER, ["number"] * 2 + ["class"] + ["flag"] * 12),
        ("abaw.emi", EMI_HEADER, ["number"] * 6),
        ("mer.multi", "name,discrete,valence", ["label", "number"]),
    ],
    ids=["va", "au", "expr", "mtl", "emi", "mer.multi"],
)
def test_fast_and_reference_parsing_agree_on_random_files(track, header, kinds, reference, blocks):
    rng = np.random.default_rng(sum(map(ord, track)))
    scorer = get_scorer(track)
    options = scorer.validate_options(None)
    outcomes = {"table": 0, "error": 0}
    for _ in range(120):
        data = _file(rng, header, kinds)
        for role in ("gold", "prediction"):
            fast = _outcome(lambda: scorer.parse_file(data, file=role, options=options))  # noqa: B023
            assert fast == reference(lambda: scorer.parse_file(data, file=role, options=options)), data  # noqa: B023
            outcomes[fast[0]] += 1
            if fast[0] == "table":  # every line that is not empty, after the header, is a row
                lines = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").split(b"\n")
                assert fast[2] == [number for number, line in enumerate(lines, start=1) if line][1:]
    # The generator must reach both sides of the accept/reject line.
    assert outcomes["table"] >= 40 and outcomes["error"] >= 40, outcomes


def test_va_shaped_files_with_many_rows_agree(reference, blocks):
    rng = np.random.default_rng(11)
    scorer = get_scorer("abaw.va")
    for trial in range(6):
        n = 2000
        gold = np.round(rng.uniform(-1, 1, (n, 2)), int(rng.integers(1, 9)))
        gold[rng.random(n) < 0.05, 0] = -5
        lines = [VA_HEADER] + [f"k{trial}/{i:06d}.jpg,{a},{b}" for i, (a, b) in enumerate(gold.tolist())]
        if trial % 2:
            lines[1 + int(rng.integers(n))] = f"bad,{_odd(rng)},0.5"
        data = ("\n".join(lines) + "\n").encode()
        for role in ("gold", "prediction"):
            fast = _outcome(lambda: scorer.parse_file(data, file=role, options={}))  # noqa: B023
            assert fast == reference(lambda: scorer.parse_file(data, file=role, options={}))  # noqa: B023


def _corrupted(rng: np.random.Generator, cell: str) -> str:
    """``cell`` with one character replaced by, or preceded by, a character that is not a digit."""
    at = int(rng.integers(0, len(cell) + 1))
    others = " +-.eE_x/:;\x0ba"
    other = others[int(rng.integers(0, len(others)))]
    return cell[:at] + other + cell[at + (rng.random() < 0.5) :]


def _cells(rng: np.random.Generator, count: int) -> list[bytes]:
    made = []
    for _ in range(count):
        sign = "-" if rng.random() < 0.5 else ""
        shape = rng.random()
        if shape < 0.5:
            cell = f"{sign}{rng.integers(0, 10)}.{_digits(rng, int(rng.integers(0, 16)))}"
        elif shape < 0.6:
            cell = f"{sign}{rng.integers(0, 1000)}.{_digits(rng, int(rng.integers(0, 6)))}"
        elif shape < 0.8:
            cell = _number(rng) if rng.random() < 0.5 else _odd(rng)
        else:
            cell = _corrupted(rng, f"{sign}{rng.integers(0, 10)}.{_digits(rng, int(rng.integers(0, 16)))}")
        made.append(cell)
    return [cell.encode("utf-8") for cell in made]


def _numpy_float(cell: bytes) -> float | None:
    try:
        return float(np.array([cell]).astype(np.float64)[0])
    except ValueError:
        return None


@pytest.mark.parametrize("width", [None, 3, 8, 11, 16, 17, 24])
def test_decimal_values_equal_numpys_cast_bit_for_bit(width, blocks):
    rng = np.random.default_rng(5 if width is None else width)
    raw = _cells(rng, 4000)
    dtype = bytes if width is None else f"S{width}"
    cells = np.array(raw, dtype=dtype)
    parseable = np.array([_numpy_float(cell) is not None for cell in cells.tolist()])
    good = cells[parseable]
    assert decimal_values(good).tobytes() == good.astype(np.float64).tobytes()
    values, exact = short_decimals(good)
    assert exact.sum() > len(good) // 2
    assert values[exact].tobytes() == good[exact].astype(np.float64).tobytes()
    for bad in cells[~parseable][:20].tolist():
        mixed = np.concatenate([good[:50], np.array([bad], dtype=cells.dtype), good[50:60]])
        with pytest.raises(ValueError):
            mixed.astype(np.float64)
        with pytest.raises(ValueError):
            decimal_values(mixed)


def test_fifteen_digit_decimals_round_as_python_does():
    rng = np.random.default_rng(21)
    # 16 bytes at most: "d." and 14 digits, or "-d." and 13.
    text = [
        f"-{d}.{_digits(rng, 13)}" if i % 3 else f"{d}.{_digits(rng, 14)}"
        for i, d in enumerate(rng.integers(0, 10, 20000))
    ]
    cells = np.array([t.encode() for t in text], dtype="S16")
    values, exact = short_decimals(cells)
    assert exact.all()
    assert values.tolist() == [float(t) for t in text]
    assert np.signbit(short_decimals(np.array([b"-0", b"-0.0", b"0"]))[0]).tolist() == [True, True, False]


def test_hash_order_sorts_the_hashes_even_when_their_high_bits_tie(monkeypatch):
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, 5000, dtype=np.int64).astype(np.uint64)
    order = keys_module._hash_order(hashes)
    assert hashes[order].tolist() == np.sort(hashes).tolist()
    # High bits equal, low bits in reverse order: packing the row number cannot sort them.
    tied = np.uint64(7 << 40) | np.arange(100, 0, -1, dtype=np.uint64)
    assert tied[keys_module._hash_order(tied)].tolist() == np.sort(tied).tolist()


def test_keys_of_different_widths_are_located_exactly():
    hay = np.array([b"frame/0001.jpg", b"b", b"frame/0003.jpg"], dtype="S16")
    needles = np.array([b"frame/0003.jpg", b"frame/0001.jpg", b"b"], dtype="S24")
    assert keys_module.locate_keys(hay, needles).tolist() == [2, 0, 1]
    assert keys_module.locate_keys(hay, hay.astype("S24")).tolist() == [0, 1, 2]
