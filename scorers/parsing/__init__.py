"""Strict parsing of submission and reference files into aligned arrays."""

from scorers.parsing.columns import Column, LabelColumn, NumberColumn, TextColumn
from scorers.parsing.delimited import parse_csv, prepare_text
from scorers.parsing.keys import check_unique_keys, locate_keys
from scorers.parsing.source import Text, read_source
from scorers.parsing.table import Table

__all__ = [
    "Column",
    "LabelColumn",
    "NumberColumn",
    "Table",
    "Text",
    "TextColumn",
    "check_unique_keys",
    "locate_keys",
    "parse_csv",
    "prepare_text",
    "read_source",
]
