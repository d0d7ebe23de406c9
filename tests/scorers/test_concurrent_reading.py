"""Large references are parsed while the prediction is parsed: same scores, same errors, in the
same order of precedence, as reading one file after the other."""

from __future__ import annotations

import threading

import pytest

from scorers import ScorerError, SubmissionFormatError, base, get_scorer
from scorers.cache import gold_cache
from tests.scorers.helpers import csv_bytes

HEADER = "image_location,valence,arousal"
GOLD = csv_bytes(HEADER, "f1,0.5,-5", "f2,-0.5,0.2", "f3,0.0,0.4", "f4,0.25,-0.75")
PRED = csv_bytes(HEADER, "f4,1,1", "f3,0.1,0.3", "f2,-0.2,0.3", "f1,0.4,-1")
BAD_GOLD = GOLD.replace(b"f3,0.0", b"f3,zero")
BAD_PRED = PRED.replace(b"f2,-0.2", b"f2,2")


class Overlap:
    """For each prediction parsed, whether the reference's parsing had begun by then or began
    while the prediction's parsing waited ``timeout`` seconds for it."""

    def __init__(self) -> None:
        self.reset(timeout=30.0)

    def reset(self, *, timeout: float) -> None:
        self.gold_began = threading.Event()
        self.seen: list[bool] = []
        self.timeout = timeout


@pytest.fixture
def concurrent(monkeypatch):
    """Every reference counts as large, so it is read alongside the prediction."""
    monkeypatch.setattr(base, "_CONCURRENT_READ_BYTES", 0)
    gold_cache.clear()
    yield
    gold_cache.clear()


@pytest.fixture
def overlap(concurrent, monkeypatch):
    scorer = get_scorer("abaw.va")
    recorder = Overlap()
    original = type(scorer).parse_file

    def parse_file(self, data, *, file, options):
        if file == "gold":
            recorder.gold_began.set()
        else:
            recorder.seen.append(recorder.gold_began.wait(timeout=recorder.timeout))
        return original(self, data, file=file, options=options)

    monkeypatch.setattr(type(scorer), "parse_file", parse_file)
    return recorder


def test_the_reference_is_parsed_while_the_prediction_is_with_the_same_result(overlap, monkeypatch):
    concurrent = get_scorer("abaw.va").score(gold=GOLD, pred=PRED)
    assert overlap.seen == [True]
    # Small references are read one after the other: the prediction is parsed before the reference.
    monkeypatch.setattr(base, "_CONCURRENT_READ_BYTES", 1 << 60)
    gold_cache.clear()
    overlap.reset(timeout=0.2)
    serial = get_scorer("abaw.va").score(gold=GOLD, pred=PRED)
    assert overlap.seen == [False]
    assert concurrent.to_json() == serial.to_json()


@pytest.mark.parametrize(
    ("gold", "pred", "message"),
    [
        (
            BAD_GOLD,
            BAD_PRED,
            "prediction file, line 4, column 'valence': '2' is outside [-1, 1]; write a number in [-1, 1], like 0.25",
        ),
        (
            BAD_GOLD,
            PRED,
            "gold file, line 4, column 'valence': 'zero' is not a number; write a number in [-1, 1], like 0.25",
        ),
    ],
)
def test_the_predictions_error_comes_first(concurrent, gold, pred, message):
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.va").score(gold=gold, pred=pred)
    assert str(caught.value) == message


def test_an_unreadable_reference_is_reported(concurrent, tmp_path):
    with pytest.raises(ScorerError) as caught:
        get_scorer("abaw.va").score(gold=tmp_path / "absent.csv", pred=PRED)
    assert str(caught.value) == f"cannot read gold file '{tmp_path / 'absent.csv'}': No such file or directory"
