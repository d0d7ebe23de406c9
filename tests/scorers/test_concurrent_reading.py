"""Large references are parsed in a second thread while the prediction is parsed: same scores,
same errors, in the same order of precedence, as reading one file after the other."""

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


@pytest.fixture
def threads(monkeypatch):
    """The name of the thread that parsed each file, with every reference read concurrently."""
    scorer = get_scorer("abaw.va")
    seen: dict[str, str] = {}
    original = type(scorer).parse_file

    def recording(self, data, *, file, options):
        seen[file] = threading.current_thread().name
        return original(self, data, file=file, options=options)

    monkeypatch.setattr(type(scorer), "parse_file", recording)
    monkeypatch.setattr(base, "_CONCURRENT_READ_BYTES", 0)
    gold_cache.clear()
    yield seen
    gold_cache.clear()


def test_the_reference_is_parsed_in_another_thread_with_the_same_result(threads, monkeypatch):
    concurrent = get_scorer("abaw.va").score(gold=GOLD, pred=PRED)
    assert threads["prediction"] == threading.main_thread().name
    assert threads["gold"] != threading.main_thread().name
    monkeypatch.setattr(base, "_CONCURRENT_READ_BYTES", 1 << 60)
    gold_cache.clear()
    threads.clear()
    serial = get_scorer("abaw.va").score(gold=GOLD, pred=PRED)
    assert threads == {"prediction": threading.main_thread().name, "gold": threading.main_thread().name}
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
def test_the_predictions_error_comes_first(threads, gold, pred, message):
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.va").score(gold=gold, pred=pred)
    assert str(caught.value) == message


def test_an_unreadable_reference_is_reported(threads, tmp_path):
    with pytest.raises(ScorerError) as caught:
        get_scorer("abaw.va").score(gold=tmp_path / "absent.csv", pred=PRED)
    assert str(caught.value) == f"cannot read gold file '{tmp_path / 'absent.csv'}': No such file or directory"
