"""The `>>>` examples in the sandbox modules' docstrings hold."""

from __future__ import annotations

import doctest

import pytest

import sandboxes.limits
import sandboxes.references


@pytest.mark.parametrize(
    ("module", "examples"), [(sandboxes.limits, 2), (sandboxes.references, 4)]
)
def test_docstring_examples(module, examples):
    result = doctest.testmod(module)
    assert result.failed == 0
    assert result.attempted == examples
