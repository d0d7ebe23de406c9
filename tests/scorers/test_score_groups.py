"""Scoring one prediction per group of keys (the conditions of a robustness protocol) equals scoring
each group's rows as files of their own."""

from __future__ import annotations

import pytest

from scorers import SubmissionFormatError, get_scorer
from tests.scorers.helpers import csv_bytes

DISCRETE_GOLD_PUBLIC = ["s1,happy", "s2,sad", "s3,angry", "s4,happy", "s5,neutral", "s6,sad"]
DISCRETE_GOLD_PRIVATE = ["s7,worried", "s8,happy", "s9,sad", "s10,angry"]
DISCRETE_PRED = ["s10,angry", "s9,happy", "s8,happy", "s7,sad", "s6,sad", "s5,neutral", "s4,angry",
                 "s3,angry", "s2,happy", "s1,happy"]
GROUPS = {"clean": ["s1", "s3", "s5", "s7", "s9"], "snr0": ["s2", "s4", "s6", "s8", "s10"]}


def _subset(header: str, rows: list[str], keys: list[str]) -> bytes:
    wanted = set(keys)
    return csv_bytes(header, *[row for row in rows if row.split(",", 1)[0] in wanted])


@pytest.mark.parametrize("options", [{}, {"bootstrap": 50, "seed": 3}])
def test_each_split_and_group_equals_scoring_its_rows_alone(options):
    scorer = get_scorer("mer.discrete")
    header = "name,discrete"
    golds = {"public": csv_bytes(header, *DISCRETE_GOLD_PUBLIC), "private": csv_bytes(header, *DISCRETE_GOLD_PRIVATE)}
    results = scorer.score_groups(golds=golds, pred=csv_bytes(header, *DISCRETE_PRED), groups=GROUPS,
                                  options=options)
    assert list(results) == ["public", "private"]
    for split, rows in (("public", DISCRETE_GOLD_PUBLIC), ("private", DISCRETE_GOLD_PRIVATE)):
        assert list(results[split]) == ["clean", "snr0"]
        for group, keys in GROUPS.items():
            gold = _subset(header, rows, keys)
            pred = _subset(header, DISCRETE_PRED, [row.split(",")[0] for row in rows if row.split(",")[0] in keys])
            alone = scorer.score(gold=gold, pred=pred, options=options)
            assert results[split][group].to_json() == alone.to_json()


def test_a_regression_track_per_group_equals_its_subset_files():
    scorer = get_scorer("abaw.va")
    header = "image_location,valence,arousal"
    gold = ["f1,0.5,-0.2", "f2,-0.5,0.2", "f3,0.0,0.4", "f4,0.3,-5", "f5,0.9,0.1", "f6,-0.1,-0.6"]
    pred = ["f6,0.0,-0.5", "f5,0.7,0.3", "f4,0.2,0.1", "f3,0.1,0.3", "f2,-0.2,0.3", "f1,0.4,-0.1"]
    groups = {"a": ["f1", "f2", "f3"], "b": ["f6", "f4", "f5"]}
    results = scorer.score_groups(golds={"all": csv_bytes(header, *gold)}, pred=csv_bytes(header, *pred),
                                  groups=groups)
    for group, keys in groups.items():
        alone = scorer.score(gold=_subset(header, gold, keys), pred=_subset(header, pred, keys))
        assert results["all"][group].to_json() == alone.to_json()


def test_a_group_without_keys_of_a_split_is_left_out_of_that_split():
    scorer = get_scorer("mer.discrete")
    header = "name,discrete"
    golds = {"public": csv_bytes(header, *DISCRETE_GOLD_PUBLIC), "private": csv_bytes(header, *DISCRETE_GOLD_PRIVATE)}
    results = scorer.score_groups(golds=golds, pred=csv_bytes(header, *DISCRETE_PRED),
                                  groups={"only-public": ["s1", "s2", "unknown"], "both": ["s3", "s7", "s3"]})
    assert list(results["public"]) == ["only-public", "both"]
    assert list(results["private"]) == ["both"]
    alone = scorer.score(gold=csv_bytes(header, "s1,happy", "s2,sad"), pred=csv_bytes(header, "s1,happy", "s2,happy"))
    assert results["public"]["only-public"].to_json() == alone.to_json()


def test_the_key_rule_still_applies_to_the_whole_prediction():
    scorer = get_scorer("mer.discrete")
    header = "name,discrete"
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.score_groups(golds={"public": csv_bytes(header, *DISCRETE_GOLD_PUBLIC)},
                            pred=csv_bytes(header, *DISCRETE_PRED[:6]), groups=GROUPS)
    assert caught.value.file == "prediction"
    assert "no row for name" in str(caught.value)
