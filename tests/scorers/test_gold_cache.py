"""The per-process cache of parsed reference tables."""

from __future__ import annotations

import numpy as np
import pytest

from scorers import get_scorer
from scorers.cache import TableCache, gold_cache
from scorers.parsing import Table
from tests.scorers.helpers import csv_bytes

GOLD = csv_bytes("name,discrete", "a,happy", "b,sad")
PRED = csv_bytes("name,discrete", "a,happy", "b,happy")


@pytest.fixture
def parses(monkeypatch):
    scorer = get_scorer("mer.discrete")
    calls: list[str] = []
    original = type(scorer).parse_file

    def counting(self, data, *, file, options):
        calls.append(file)
        return original(self, data, file=file, options=options)

    monkeypatch.setattr(type(scorer), "parse_file", counting)
    gold_cache.clear()
    yield calls
    gold_cache.clear()


def test_the_reference_is_parsed_once_per_content_and_options(parses):
    scorer = get_scorer("mer.discrete")
    first = scorer.score(gold=GOLD, pred=PRED)
    again = scorer.score(gold=bytes(GOLD), pred=PRED, options={"bootstrap": 10})
    assert again.score == first.score
    assert parses == ["prediction", "gold", "prediction"]
    scorer.score(gold=GOLD, pred=PRED, options={"labels": "happy,sad"})
    scorer.score(gold=GOLD.replace(b"b,sad", b"b,happy"), pred=PRED)
    assert parses.count("gold") == 3


def test_cached_arrays_are_read_only(parses):
    scorer = get_scorer("mer.discrete")
    scorer.validate(PRED, golds=[GOLD])
    table = scorer._read(GOLD, "gold", scorer.validate_options({}))
    with pytest.raises(ValueError):
        table["discrete"][0] = 1


def _table(rows: int = 100) -> Table:
    """A table of about 800 KB: 100 rows of 1,000 floats."""
    keys = np.array([f"k{i}".encode() for i in range(rows)])
    return Table(keys=keys, lines=np.arange(rows) + 2, columns={"v": np.zeros((rows, 1000))})


def test_eviction_keeps_the_cache_within_its_byte_budget():
    cache = TableCache(max_bytes=2 << 20)  # room for two such tables, not three
    made = []

    def parse():
        made.append(1)
        return _table()

    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_parse(key, parse)
    # a, b parsed; a hit; c parsed and b evicted (least recently used); a hit; b parsed again
    assert len(made) == 4


@pytest.mark.parametrize("budget", [1 << 19, 0])
def test_a_table_over_the_budget_or_a_disabled_cache_is_parsed_every_time(budget):
    cache = TableCache(max_bytes=budget)
    made = []
    first = cache.get_or_parse("a", lambda: made.append(1) or _table())
    again = cache.get_or_parse("a", lambda: made.append(1) or _table())
    assert len(made) == 2 and first is not again
