"""Exceptions raised by the scorers.

Every error carries one line of text that a participant or an organiser can act on.
"""

from __future__ import annotations

__all__ = ["ScorerError", "SubmissionFormatError", "OptionError", "AssetError", "one_line", "quote_cell"]

#: Messages quote at most this many characters of a cell: a hostile file must not be echoed back.
QUOTED_CHARACTERS = 80


def quote_cell(cell: str | bytes, limit: int = QUOTED_CHARACTERS) -> str:
    """``cell`` quoted for a message, cut to ``limit`` characters (with "..." and its length when cut).

    >>> quote_cell("happy")
    "'happy'"
    >>> quote_cell("x" * 100, limit=10)
    "'xxxxxxx...' (100 characters)"
    """
    text = cell.decode("utf-8", errors="replace") if isinstance(cell, bytes) else str(cell)
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 3] + '...'!r} ({len(text)} characters)"


def one_line(text: str) -> str:
    """Collapse ``text`` onto one line so that it can be shown as a single message."""
    return " ".join(str(text).split())


class ScorerError(Exception):
    """Base class of every error a scorer raises; ``str(e)`` is one actionable line."""

    def __init__(self, message: str) -> None:
        self.message = one_line(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class SubmissionFormatError(ScorerError):
    """A prediction or reference file that cannot be scored as it stands.

    ``file`` is ``"prediction"``, ``"gold"`` or a file name; ``row`` is the 1-based line number as a
    text editor counts it (the header is line 1) or ``None`` when the problem is not one line;
    ``column`` names the column at fault, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "prediction",
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        super().__init__(message)

    def where(self) -> str:
        """The location prefix, e.g. ``prediction file, line 12, column 'valence'``."""
        if self.file in ("prediction", "gold"):
            text = f"{self.file} file"
        else:
            text = f"file '{self.file}'"
        if self.row is not None:
            text += f", line {self.row}"
        if self.column is not None:
            text += f", column '{self.column}'"
        return text

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


class OptionError(ScorerError):
    """An unknown scorer, an unknown option, or an option value of the wrong type or choice."""


class AssetError(ScorerError):
    """Track assets (e.g. an emotion-wheel folder) that are missing or unreadable."""
