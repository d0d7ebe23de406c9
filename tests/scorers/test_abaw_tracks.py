"""ABAW tracks: hand-worked scores, masking of unannotated reference values, formats."""

from __future__ import annotations

import pytest

from scorers import SubmissionFormatError, get_scorer
from tests.scorers.helpers import csv_bytes

AUS = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26"
EXPR_HEADER = "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
CE_HEADER = (
    "image_location,Fearfully_Surprised,Happily_Surprised,Sadly_Surprised,"
    "Disgustedly_Surprised,Angrily_Surprised,Sadly_Fearful,Sadly_Angry"
)
EMI_HEADER = "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy"


def test_va_masks_each_dimension_separately():
    gold = csv_bytes("image_location,valence,arousal", "f1,0.5,-5", "f2,-0.5,0.2", "f3,0.0,0.4", "f4,-5,-5.0")
    pred = csv_bytes("image_location,valence,arousal", "f4,1,1", "f3,0.1,0.3", "f2,-0.2,0.3", "f1,0.4,-1")
    result = get_scorer("abaw.va").score(gold=gold, pred=pred)
    # valence over f1-f3: means 0 and 0.1, variances 1/6 and 0.06, covariance 0.1:
    # CCC = 0.2 / (1/6 + 0.06 + 0.01) = 60/71; arousal over f2, f3: constant prediction -> 0
    assert result.metrics["ccc_valence"] == pytest.approx(60 / 71, abs=1e-14)
    assert result.metrics["ccc_arousal"] == 0.0
    assert result.score == pytest.approx(30 / 71, abs=1e-14)
    assert result.metrics["mean_ccc"] == result.score


def test_va_rejects_the_missing_marker_in_predictions():
    gold = csv_bytes("image_location,valence,arousal", "f1,0.5,-5")
    pred = csv_bytes("image_location,valence,arousal", "f1,0.5,-5")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.va").score(gold=gold, pred=pred)
    assert str(caught.value) == (
        "prediction file, line 2, column 'arousal': '-5' is outside [-1, 1]; write a number in [-1, 1], like 0.25"
    )


def test_va_with_no_annotated_value_is_a_gold_error():
    gold = csv_bytes("image_location,valence,arousal", "f1,-5,0.1")
    pred = csv_bytes("image_location,valence,arousal", "f1,0.5,0.1")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.va").score(gold=gold, pred=pred)
    assert str(caught.value) == ("gold file: the file has no annotated valence value; nothing can be scored")


def test_expr_macro_f1_over_eight_classes_without_unannotated_frames():
    gold = csv_bytes(EXPR_HEADER, "a,0", "b,1", "c,-1", "d,2")
    pred = csv_bytes(EXPR_HEADER, "a,0", "b,1", "c,3", "d,1")
    result = get_scorer("abaw.expr").score(gold=gold, pred=pred)
    # class 0: 1, class 1: 2/3, every other class 0 (c is not annotated) -> (5/3) / 8
    assert result.score == pytest.approx(5 / 24, abs=1e-15)
    assert result.breakdown["per_class_f1"]["Anger"] == pytest.approx(2 / 3, abs=1e-15)
    assert result.breakdown["confusion_matrix"][2][1] == 1  # Disgust predicted as Anger


def test_expr_rejects_a_class_index_outside_the_set():
    gold = csv_bytes(EXPR_HEADER, "a,0")
    pred = csv_bytes(EXPR_HEADER, "a,8")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.expr").score(gold=gold, pred=pred)
    assert str(caught.value) == (
        "prediction file, line 2, column 'expression': '8' is outside [0, 7]; write a whole number in [0, 7], like 2"
    )


def test_au_mean_f1_masks_each_unit():
    gold = csv_bytes(f"image_location,{AUS}", "f1,1,-1," + ",".join(["1"] * 10), "f2," + ",".join(["0"] * 12))
    pred = csv_bytes(f"image_location,{AUS}", "f2,1," + ",".join(["0"] * 11), "f1," + ",".join(["1"] * 12))
    result = get_scorer("abaw.au").score(gold=gold, pred=pred)
    # AU1: TP 1, FP 1 -> 2/3; AU2: its only positive is unannotated -> 0; ten others: 1
    assert result.score == pytest.approx((2 / 3 + 10) / 12, abs=1e-15)
    assert result.breakdown["per_au_f1"]["AU1"] == pytest.approx(2 / 3, abs=1e-15)
    assert result.breakdown["per_au_f1"]["AU2"] == 0.0


def test_mtl_is_the_sum_of_the_three_measures():
    header = "image,valence,arousal,expression,aus"
    gold = csv_bytes(
        header,
        "f1,0.5,0.5,0," + ",".join(["1"] * 12),
        "f2,-0.5,-0.5,1," + ",".join(["0"] * 12),
        "f3,0.0,0.0,2," + ",".join(["1"] * 12),
    )
    pred = csv_bytes(
        header,
        "f1,0.4,0.4,0," + ",".join(["1"] * 12),
        "f2,-0.2,-0.2,1," + ",".join(["0"] * 12),
        "f3,0.1,0.1,1," + ",".join(["0"] * 12),
    )
    result = get_scorer("abaw.mtl").score(gold=gold, pred=pred)
    # VA: both CCCs 60/71; EXPR: (1 + 2/3 + 0) / 8 = 5/24; AU: TP 1, FN 1 on every unit -> 2/3
    assert result.metrics["va"] == pytest.approx(60 / 71, abs=1e-14)
    assert result.metrics["expr"] == pytest.approx(5 / 24, abs=1e-15)
    assert result.metrics["au"] == pytest.approx(2 / 3, abs=1e-15)
    assert result.score == pytest.approx(60 / 71 + 5 / 24 + 2 / 3, abs=1e-14)


def test_mtl_rows_need_all_sixteen_cells():
    header = "image,valence,arousal,expression,aus"
    gold = csv_bytes(header, "f1,0.5,0.5,0," + ",".join(["1"] * 12))
    pred = csv_bytes(header, "f1,0.5,0.5,0," + ",".join(["1"] * 11))
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.mtl").score(gold=gold, pred=pred)
    assert str(caught.value).startswith(
        "prediction file, line 2: the row has 15 columns, expected 16 (image,valence,arousal,expression,AU1,"
    )


def test_ce_macro_f1_over_seven_classes():
    gold = csv_bytes(CE_HEADER, "a,0", "b,6", "c,6")
    pred = csv_bytes(CE_HEADER, "a,0", "b,6", "c,5")
    result = get_scorer("abaw.ce").score(gold=gold, pred=pred)
    assert result.score == pytest.approx((1 + 2 / 3) / 7, abs=1e-15)
    assert result.metrics == {"macro_f1": result.score}


def test_emi_mean_pearson_over_six_dimensions():
    rows_gold = ["1,0.1,0.2,0.3,0.4,0.5,0.1", "2,0.2,0.4,0.1,0.5,0.3,0.2", "3,0.9,0.1,0.5,0.2,0.8,0.3"]
    rows_pred = ["1,0.1,0.2,0.3,0.4,0.5,0.3", "2,0.2,0.4,0.1,0.5,0.3,0.2", "3,0.9,0.1,0.5,0.2,0.8,0.1"]
    result = get_scorer("abaw.emi").score(
        gold=csv_bytes(EMI_HEADER, *rows_gold), pred=csv_bytes(EMI_HEADER, *rows_pred)
    )
    # five dimensions predicted exactly (r = 1), Joy reversed (r = -1): (5 - 1) / 6
    assert result.score == pytest.approx(2 / 3, abs=1e-15)
    assert result.breakdown["pearson"]["Joy"] == pytest.approx(-1.0, abs=1e-15)


def test_ah_macro_f1_and_average_precision_from_class_scores():
    gold = b"v/a.mp4,1\nv/b.mp4,0\nv/c.mp4,1\nv/d.mp4,0\n"
    pred = b"v/a.mp4,1\nv/b.mp4,0\nv/c.mp4,0\nv/d.mp4,0\n"
    scorer = get_scorer("abaw.ah")
    result = scorer.score(gold=gold, pred=pred)
    # class 1: F1 2/3; class 0: F1 4/5 -> 11/15
    assert result.score == pytest.approx(11 / 15, abs=1e-15)
    assert "average_precision" not in result.metrics
    with_scores = b"v/a.mp4,0,2,1\nv/b.mp4,0,-2,0\nv/c.mp4,0,1,0\nv/d.mp4,0,-1,0\n"
    result = scorer.score(gold=gold, pred=with_scores)
    # softmax gives P(1) = 0.88, 0.12, 0.73, 0.27: both positives rank first -> AP 0.75
    assert result.score == pytest.approx(11 / 15, abs=1e-15)
    assert result.metrics["average_precision"] == pytest.approx(0.75, abs=1e-15)


def test_ah_rejects_a_row_with_three_cells():
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("abaw.ah").score(gold=b"v/a.mp4,1\n", pred=b"v/a.mp4,0.2,1\n")
    assert str(caught.value) == (
        "prediction file, line 1: the row has 3 columns, expected 2 (path,pred); write one value "
        "per column, separated by commas"
    )


@pytest.mark.parametrize(
    ("key", "pool"),
    [
        ("abaw.va", False),
        ("abaw.expr", False),
        ("abaw.au", False),
        ("abaw.mtl", False),
        ("abaw.ce", False),
        ("abaw.emi", False),
        ("abaw.ah", False),
        ("mer.multi", False),
        ("mer.discrete", True),
        ("mer.prefer", True),
    ],
)
def test_which_tracks_accept_a_candidate_pool(key, pool):
    assert get_scorer(key).allows_extra_keys is pool


def test_au_breakdown_holds_each_units_confusion_matrix():
    gold = csv_bytes(f"image_location,{AUS}", "f1,1,-1," + ",".join(["1"] * 10), "f2," + ",".join(["0"] * 12))
    pred = csv_bytes(f"image_location,{AUS}", "f1," + ",".join(["1"] * 12), "f2,1," + ",".join(["0"] * 11))
    confusion = get_scorer("abaw.au").score(gold=gold, pred=pred).breakdown["per_au_confusion"]
    assert confusion["AU1"] == [[0, 1], [0, 1]]  # [[TN, FP], [FN, TP]]
    assert confusion["AU2"] == [[1, 0], [0, 0]]  # frame 1 is not annotated for AU2
    assert confusion["AU26"] == [[1, 0], [0, 1]]
