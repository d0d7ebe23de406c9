"""MER tracks: hand-worked scores, the candidate-pool key rule and options."""

from __future__ import annotations

import pytest

from scorers import OptionError, SubmissionFormatError, get_scorer
from tests.scorers.helpers import csv_bytes

DISCRETE_GOLD = csv_bytes("name,discrete", "s1,happy", "s2,happy", "s3,sad", "s4,neutral")
DISCRETE_PRED = csv_bytes("name,discrete", "s5,angry", "s4,neutral", "s3,sad", "s2,sad", "s1,happy")


def test_discrete_weighted_f1_by_hand():
    result = get_scorer("mer.discrete").score(gold=DISCRETE_GOLD, pred=DISCRETE_PRED)
    # happy F1 2/3 (support 2), sad F1 2/3 (support 1), neutral F1 1 (support 1):
    # (2 * 2/3 + 2/3 + 1) / 4 = 0.75; the extra candidate s5 is not scored.
    assert result.score == pytest.approx(0.75, abs=1e-15)
    assert result.metrics == {"waf": result.score, "accuracy": 0.75}
    breakdown = result.breakdown
    assert breakdown["labels"] == ["neutral", "angry", "happy", "sad", "worried", "surprise"]
    assert breakdown["confusion_matrix"][2] == [0, 0, 1, 1, 0, 0]  # happy -> happy, sad
    assert breakdown["per_class_f1"]["neutral"] == 1.0
    assert breakdown["support"] == {"neutral": 1, "angry": 0, "happy": 2, "sad": 1, "worried": 0, "surprise": 0}


def test_discrete_requires_every_gold_name():
    pred = csv_bytes("name,discrete", "s1,happy", "s2,sad", "s4,neutral")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("mer.discrete").score(gold=DISCRETE_GOLD, pred=pred)
    assert str(caught.value) == (
        "prediction file, column 'name': no row for name 's3' (1 of 4 test keys have no row); "
        "write one row for every candidate"
    )


def test_discrete_expected_rows_and_label_set_options():
    scorer = get_scorer("mer.discrete")
    assert scorer.validate(DISCRETE_PRED, golds=[DISCRETE_GOLD], options={"expected_rows": "5"}) == 5
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(DISCRETE_PRED, options={"expected_rows": 20000})
    assert str(caught.value) == (
        "prediction file: the file holds 5 rows but the track expects 20000; write one row for every candidate"
    )
    gold = csv_bytes("name,discrete", "a,joy", "b,calm")
    pred = csv_bytes("name,discrete", "a,joy", "b,joy")
    result = scorer.score(gold=gold, pred=pred, options={"labels": "joy,calm"})
    # joy: F1 2/3 (support 1); calm: F1 0 (support 1)
    assert result.score == pytest.approx(1 / 3, abs=1e-15)
    with pytest.raises(OptionError) as option_error:
        scorer.validate_options({"labels": "joy,,calm"})
    assert str(option_error.value) == ("option 'labels' must be a comma-separated list, got 'joy,,calm'")


def test_multi_combines_weighted_f1_and_valence_mse():
    gold = csv_bytes("name,discrete,valence", "a,happy,1.0", "b,sad,-2.0")
    pred = csv_bytes("name,discrete,valence", "b,happy,-2.0", "a,happy,2.0")
    scorer = get_scorer("mer.multi")
    result = scorer.score(gold=gold, pred=pred)
    # happy F1 2/3 (support 1), sad F1 0 (support 1): waf 1/3; MSE (1 + 0) / 2 = 0.5
    assert result.metrics["waf"] == pytest.approx(1 / 3, abs=1e-15)
    assert result.metrics["mse"] == 0.5
    assert result.score == pytest.approx(1 / 3 - 0.125, abs=1e-15)
    assert result.metrics["combined"] == result.score
    heavier = scorer.score(gold=gold, pred=pred, options={"mse_weight": "1"})
    assert heavier.score == pytest.approx(1 / 3 - 0.5, abs=1e-15)


def test_multi_rejects_names_outside_the_test_set():
    gold = csv_bytes("name,discrete,valence", "a,happy,1.0")
    pred = csv_bytes("name,discrete,valence", "a,happy,1.0", "zz,sad,0")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("mer.multi").score(gold=gold, pred=pred)
    assert str(caught.value) == (
        "prediction file, line 3, column 'name': 'zz' is not in the test set; write rows for the test samples only"
    )


def test_prefer_drops_gold_same_and_reads_predicted_same_as_a1():
    gold = csv_bytes("name,preference", "p1,a1", "p2,a2", "p3,same", "p4,a2", "p6,a1")
    pred = csv_bytes("name,preference", "p1,same", "p2,a2", "p3,a1", "p4,a1", "p5,a2", "p6,a1")
    result = get_scorer("mer.prefer").score(gold=gold, pred=pred)
    # scored pairs p1 (a1,a1) p2 (a2,a2) p4 (a2,a1) p6 (a1,a1):
    # a1 F1 = 4/5 (support 2), a2 F1 = 2/3 (support 2) -> 11/15; accuracy 3/4
    assert result.score == pytest.approx(11 / 15, abs=1e-15)
    assert result.metrics == {"weighted_f1": result.score, "accuracy": 0.75}
    assert result.breakdown["dropped_same"] == 1


def test_prefer_with_only_same_in_the_reference_is_a_gold_error():
    gold = csv_bytes("name,preference", "p1,same")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("mer.prefer").score(gold=gold, pred=gold)
    assert str(caught.value) == (
        "gold file: the file has no pair with a preference other than same; nothing can be scored"
    )
