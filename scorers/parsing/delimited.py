"""Strict, vectorised CSV reading into a ``Table``.

The whole file is handled as one byte buffer: separators are found with numpy, every cell of a
column is gathered into one fixed-width ``S`` array, and columns are converted in bulk. Files with
quoted cells go through the standard ``csv`` module instead (they are small in practice: quoting
is needed for label lists, not for numbers). Either way the result and the error messages are the
same.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

import numpy as np

from scorers.errors import SubmissionFormatError, quote_cell
from scorers.parsing.cells import NEWLINE, cells_by_column, scan_separators
from scorers.parsing.columns import CellProblem, Column
from scorers.parsing.quoted import unquote
from scorers.parsing.source import Text
from scorers.parsing.table import Table

__all__ = ["parse_csv", "prepare_text"]

_BOM = b"\xef\xbb\xbf"
_NON_BLANK = re.compile(rb"[^\s]")


def prepare_text(data: Text, *, file: str) -> Text:
    """``data`` checked to be non-empty UTF-8 without NUL bytes, with the BOM removed, line ends
    normalised to ``\\n`` and a final ``\\n``. Raises ``SubmissionFormatError`` otherwise.

    ``data`` may be a read-only map of a large file (see ``read_source``); it is copied only when
    something has to change (a BOM, CR line ends, no final line end)."""
    if data[: len(_BOM)] == _BOM:
        data = data[len(_BOM) :]
    if not _is_ascii(data):
        try:
            str(data, "utf-8")
        except UnicodeDecodeError as error:
            raise SubmissionFormatError(
                f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be decoded); "
                "save the file as UTF-8",
                file=file,
                row=data[: error.start].count(b"\n") + 1,
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SubmissionFormatError(
            "the file contains a NUL byte; save the file as UTF-8 text (not UTF-16)",
            file=file,
            row=data[:nul].count(b"\n") + 1,
        )
    if data.find(b"\r") >= 0:
        data = bytes(data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if _NON_BLANK.search(data) is None:
        raise SubmissionFormatError("the file is empty; write the header line and then one row per sample", file=file)
    if data[-1:] != b"\n":
        data = bytes(data) + b"\n"
    return data


def _plain_ascii(data: Text) -> tuple[np.ndarray, int] | None:
    """The separators and last blank of a file that ``prepare_text`` would pass unchanged and
    that holds no quote (ASCII without NUL or CR, no BOM, a final newline, not blank), found in
    one pass; ``None`` for any other file."""
    if data[: len(_BOM)] == _BOM or data[-1:] != b"\n":
        return None
    scanned = scan_separators(np.frombuffer(data, dtype=np.uint8), plain_ascii=True)
    if scanned is None or _NON_BLANK.search(data) is None:
        return None
    return scanned


def _is_ascii(data: Text) -> bool:
    if isinstance(data, bytes):
        return data.isascii()
    octets = np.frombuffer(data, dtype=np.uint8)  # a large mapped file: numpy lets other threads run
    return len(octets) == 0 or int(octets.max()) < 0x80


def parse_csv(
    data: Text,
    *,
    file: str,
    header: tuple[str, ...] | None,
    key: str,
    columns: Sequence[Column],
) -> Table:
    """Parse a comma-separated file whose rows are ``key`` followed by ``columns``.

    ``header`` is the exact first line (compared cell by cell, blanks around names ignored), or
    ``None`` for a file without a header. Blank lines are skipped; blanks around keys, numbers and
    labels are ignored; ``TextColumn`` cells are kept as written. Raises ``SubmissionFormatError``
    carrying the line number and column of the first problem.
    """
    names = (key, *(column.name for column in columns))
    # Keys are stripped here; numbers and labels ignore surrounding blanks when converted.
    strip = [True] + [False] * len(columns)
    plain = _plain_ascii(data)
    if plain is not None:
        lines, cells = _split_at(data, *plain, file, header, names, strip)
    else:
        text = prepare_text(data, file=file)
        split = _split_quoted if text.find(b'"') >= 0 else _split_plain
        lines, cells = split(text, file, header, names, strip)
    if len(lines) == 0:
        raise SubmissionFormatError(
            "the file holds no rows; write one row per sample" + (" below the header" if header else ""),
            file=file,
        )
    problems: list[tuple[int, int, str, str]] = []
    empty_keys = np.flatnonzero(cells[0] == b"")
    if empty_keys.size:
        problems.append((int(empty_keys[0]), 0, key, f"empty {key}; every row needs a {key}"))
    converted: dict[str, np.ndarray] = {}
    for position, (column, column_cells) in enumerate(zip(columns, cells[1:], strict=True), start=1):
        try:
            converted[column.name] = column.convert(column_cells)
        except CellProblem as problem:
            problems.append((problem.index, position, column.name, problem.message))
    if problems:
        index, _, column_name, message = min(problems)
        raise SubmissionFormatError(message, file=file, row=int(lines[index]), column=column_name)
    return Table(keys=cells[0], lines=lines, columns=converted, file=file)


def _check_header(found: list[str], expected: tuple[str, ...], file: str, line: int) -> None:
    wanted = ",".join(expected)
    cleaned = [name.strip() for name in found]
    if tuple(cleaned) == expected:
        return
    if len(cleaned) == 1 and len(expected) > 1 and any(mark in cleaned[0] for mark in ";\t|"):
        raise SubmissionFormatError(
            f"the header {quote_cell(cleaned[0])} is not separated by commas; save the file as CSV with "
            f"commas, the first line being {wanted}",
            file=file,
            row=line,
        )
    for position, name in enumerate(expected):
        if position >= len(cleaned):
            message = f"the header lacks {name!r}; the first line must be {wanted}"
            raise SubmissionFormatError(message, file=file, row=line)
        if cleaned[position] != name:
            message = (
                f"the header names {quote_cell(cleaned[position])} where {name!r} is expected; "
                f"the first line must be {wanted}"
            )
            raise SubmissionFormatError(message, file=file, row=line, column=name)
    extra = cleaned[len(expected)]
    raise SubmissionFormatError(
        f"the header has an extra column {quote_cell(extra)}; the first line must be {wanted}",
        file=file,
        row=line,
    )


def _column_count_error(found: int, names: Sequence[str], file: str, line: int) -> None:
    raise SubmissionFormatError(
        f"the row has {found} column{'s' if found != 1 else ''}, expected {len(names)} "
        f"({','.join(names)}); write one value per column, separated by commas",
        file=file,
        row=line,
    )


def _split_plain(
    text: Text,
    file: str,
    header: tuple[str, ...] | None,
    names: Sequence[str],
    strip: Sequence[bool],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Cells of a file without quotes, after checking its header: (line numbers of the rows,
    one ``S`` array per column)."""
    separators, last_blank = scan_separators(np.frombuffer(text, dtype=np.uint8))
    return _split_at(text, separators, last_blank, file, header, names, strip)


def _split_at(
    text: Text,
    separators: np.ndarray,
    last_blank: int,
    file: str,
    header: tuple[str, ...] | None,
    names: Sequence[str],
    strip: Sequence[bool],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``_split_plain`` once the offsets of the separating commas and newlines are known (the
    cells may hold further commas). ``last_blank`` is the offset of the last space or tab (-1 if
    there is none; keys are stripped of spaces and tabs only if one lies among the rows)."""
    body = np.frombuffer(text, dtype=np.uint8)
    newline_at = np.flatnonzero(body[separators] == NEWLINE)  # indices into `separators`
    line_ends = separators[newline_at]
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))
    commas = np.diff(newline_at, prepend=-1) - 1
    filled = np.flatnonzero(line_ends > line_starts)
    first_row_separator = 0
    if header is not None:
        first = int(filled[0])
        head_separators = separators[newline_at[first] - commas[first] : newline_at[first] + 1].tolist()
        head_starts = [int(line_starts[first]), *(offset + 1 for offset in head_separators[:-1])]
        head = [text[a:b].decode("utf-8") for a, b in zip(head_starts, head_separators, strict=True)]
        _check_header(head, header, file, first + 1)
        first_row_separator = int(newline_at[first]) + 1
        filled = filled[1:]
    wrong = np.flatnonzero(commas[filled] != len(names) - 1)
    if wrong.size:
        line = int(filled[wrong[0]])
        _column_count_error(int(commas[line]) + 1, names, file, line + 1)
    row_separators = separators[first_row_separator:]
    if filled.size and len(row_separators) != len(filled) * len(names):
        # Blank lines among the rows: drop their newlines (they hold no commas).
        keep = np.ones(len(separators), dtype=bool)
        keep[:first_row_separator] = False
        blank = np.flatnonzero(line_ends <= line_starts)
        keep[newline_at[blank]] = False
        row_separators = separators[keep]
    bounds = row_separators.reshape(len(filled), len(names))
    # Without blank lines the rows are a contiguous run of lines: slice instead of gathering.
    contiguous = filled.size and filled[-1] - filled[0] + 1 == filled.size
    row_starts = line_starts[filled[0] : filled[-1] + 1] if contiguous else line_starts[filled]
    # Blanks in the header only (e.g. a column named "Empathic Pain") need no stripping.
    blanks = len(row_starts) > 0 and last_blank >= row_starts[0]
    cells = cells_by_column(text, row_starts, bounds, strip_keys=bool(blanks and strip[0]))
    return filled + 1, cells


def _split_quoted(
    text: Text,
    file: str,
    header: tuple[str, ...] | None,
    names: Sequence[str],
    strip: Sequence[bool],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Like ``_split_plain``, for a file with quoted cells: unquoted with numpy when the quoting is
    well formed, else read with the ``csv`` module (which then also names any quoting error)."""
    unquoted = unquote(np.frombuffer(text, dtype=np.uint8))
    if unquoted is not None:
        plain, separators = unquoted
        return _split_at(plain, separators, len(plain), file, header, names, strip)
    reader = csv.reader(io.StringIO(str(text, "utf-8"), newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    awaiting_header = header is not None
    try:
        for row in reader:
            if not row:
                continue
            if awaiting_header:
                _check_header(row, header, file, reader.line_num)  # type: ignore[arg-type]
                awaiting_header = False
                continue
            if len(row) != len(names):
                _column_count_error(len(row), names, file, reader.line_num)
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as error:
        raise SubmissionFormatError(
            f"cannot read the quoting ({error}); put the whole cell in double quotes and double every quote inside it",
            file=file,
            row=reader.line_num,
        ) from None
    cells = []
    for position, do_strip in enumerate(strip):
        values = [row[position].strip(" \t") if do_strip else row[position] for row in rows]
        cells.append(np.array([value.encode("utf-8") for value in values], dtype=bytes))
    return np.array(lines, dtype=np.int64), cells
