"""Reading one emotion-wheel sheet (``.csv`` or ``.xlsx``) into text cells with line numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from scorers.errors import AssetError

__all__ = ["Sheet", "read_sheet"]


@dataclass(frozen=True)
class Sheet:
    """The rows of a sheet under its header.

    ``rows`` holds ``(line, cells)`` pairs, ``line`` being the 1-based row number a spreadsheet or
    a text editor shows (header = 1). A cell is its text, or ``None`` when the cell is empty; text
    is kept as written (no stripping, no guessing of "NA"). Rows with every cell empty are left out.
    """

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str | None, ...]], ...]

    def column(self, name: str) -> int:
        """The index of column ``name``; ``AssetError`` naming the sheet when it is missing."""
        try:
            return self.header.index(name)
        except ValueError:
            raise AssetError(
                f"{self.name}: no column '{name}' (the header holds {', '.join(self.header)})"
            ) from None


def read_sheet(path: Path, data: bytes) -> Sheet:
    """Parse ``data``, the content of ``path``, as CSV (UTF-8) or as the first worksheet of an
    ``.xlsx`` workbook, depending on the file name. Raises ``AssetError`` when it cannot."""
    if path.suffix.lower() == ".xlsx":
        raw_rows = _xlsx_rows(path, data)
    else:
        raw_rows = _csv_rows(path, data)
    if not raw_rows:
        raise AssetError(f"{path.name} is empty; it needs a header row")
    header = tuple((cell or "").strip() for cell in raw_rows[0])
    width = len(header)
    rows = []
    for line, cells in enumerate(raw_rows[1:], start=2):
        if all(cell is None for cell in cells):
            continue
        if len(cells) < width:
            cells = cells + (None,) * (width - len(cells))
        rows.append((line, cells))
    return Sheet(name=path.name, header=header, rows=tuple(rows))


def _csv_rows(path: Path, data: bytes) -> list[tuple[str | None, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AssetError(f"{path.name} is not UTF-8 text (byte {error.start})") from None
    try:
        return [
            tuple(cell if cell != "" else None for cell in row)
            for row in csv.reader(io.StringIO(text, newline=""))
        ]
    except csv.Error as error:
        raise AssetError(f"{path.name} is not valid CSV: {error}") from None


def _xlsx_rows(path: Path, data: bytes) -> list[tuple[str | None, ...]]:
    import openpyxl  # imported here: only workbooks need it, and it is slow to import
    from openpyxl.utils.exceptions import InvalidFileException

    # SyntaxError covers the XML parser's errors on a damaged workbook part.
    unreadable = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError,
                  SyntaxError)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as error:
        raise AssetError(f"{path.name} is not a readable .xlsx workbook ({error})") from None
    try:
        if not book.worksheets:
            raise AssetError(f"{path.name} holds no worksheet")
        sheet = book.worksheets[0]
        return [
            tuple(_cell_text(value) for value in row)
            for row in sheet.iter_rows(values_only=True)
        ]
    except unreadable as error:
        raise AssetError(f"{path.name} is not a readable .xlsx workbook ({error})") from None
    finally:
        book.close()


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
