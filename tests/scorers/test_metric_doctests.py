"""The ``>>>`` examples of every metric module run and pass."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scorers.metrics

MODULES = sorted(info.name for info in pkgutil.iter_modules(scorers.metrics.__path__, "scorers.metrics."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no >>> examples"
    assert result.failed == 0


def test_the_classification_and_regression_modules_are_covered() -> None:
    assert {"scorers.metrics.classification", "scorers.metrics.regression"} <= set(MODULES)
