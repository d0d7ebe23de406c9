"""A message quotes at most ~80 characters of any cell, however long the cell."""

from __future__ import annotations

import pytest

import scorers
from scorers.errors import SubmissionFormatError

LONG = "x" * 2_000_000


@pytest.mark.parametrize(("data", "start"), [
    (f"{LONG},discrete\ns1,happy\n".encode(), "prediction file, line 1, column 'name': the header names 'xxx"),
    (f"name,discrete,{LONG}\ns1,happy\n".encode(), "prediction file, line 1: the header has an extra column 'xxx"),
    (f"name,discrete\n{LONG},happy\n{LONG},sad\n".encode(), "prediction file, line 3, column 'name': 'xxx"),
    (f"name,discrete\ns1,{LONG}\n".encode(), "prediction file, line 2, column 'discrete': "),
])
def test_a_two_megabyte_cell_is_not_echoed_back(data, start):
    with pytest.raises(SubmissionFormatError) as refused:
        scorers.get_scorer("mer.discrete").validate(data)
    message = str(refused.value)
    assert message.startswith(start)
    assert len(message) < 400
    assert "...' (2000000 characters)" in message
