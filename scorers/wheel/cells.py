"""Label-list cells, read exactly as the MER organisers read them.

A cell such as ``['happy', 'sad']``, ``[happy, sad]`` or ``happy, sad`` is a list of labels. The
organisers drop one leading ``[`` and one trailing ``]`` (looking at the raw cell, not a stripped
copy), split on single quotes, double quotes and commas, and keep the stripped, non-empty pieces.
Submitted and reference labels are then lower-cased and stripped once more.
"""

from __future__ import annotations

import re

__all__ = ["SEPARATORS", "split_list_cell", "parse_label_cell"]

SEPARATORS = re.compile("['\",]")


def split_list_cell(text: str) -> list[str]:
    """The stripped, non-empty items of a list-like cell, in order, case kept.

    >>> split_list_cell("['happy', 'Sad']")
    ['happy', 'Sad']
    >>> split_list_cell(" [a, b]")
    ['[a', 'b']
    >>> split_list_cell("")
    []
    """
    if text[:1] == "[":
        text = text[1:]
    if text[-1:] == "]":
        text = text[:-1]
    items = []
    for piece in SEPARATORS.split(text):
        piece = piece.strip()
        if piece:
            items.append(piece)
    return items


def parse_label_cell(text: str) -> tuple[str, ...]:
    """The labels of a submission or reference cell: split, then lower-cased and stripped.

    Repeated labels are kept (they count once: scores compare sets).

    >>> parse_label_cell("[Happy,  'sad ', happy]")
    ('happy', 'sad', 'happy')
    """
    return tuple(item.lower().strip() for item in split_list_cell(text))
