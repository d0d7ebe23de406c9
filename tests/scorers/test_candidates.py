"""Published candidate lists: the upload check depends on the list alone, never on the hidden test keys."""

from __future__ import annotations

import pytest

import scorers
from scorers.errors import SubmissionFormatError

CANDIDATES = [f"clip_{i:03d}" for i in range(12)]
HIDDEN = {"clip_002": "happy", "clip_005": "sad", "clip_009": "angry"}  # the test keys among them
LIST = ("name,duration\n" + "".join(f"{c},3.0\n" for c in CANDIDATES)).encode()
GOLD = ("name,discrete\n" + "".join(f"{k},{v}\n" for k, v in HIDDEN.items())).encode()


def _prediction(names: list[str]) -> bytes:
    return ("name,discrete\n" + "".join(f"{n},happy\n" for n in names)).encode()


def _refusal(scorer_key: str, names: list[str]) -> tuple[str, int | None, str | None]:
    scorer = scorers.get_scorer(scorer_key)
    with pytest.raises(SubmissionFormatError) as refused:
        scorer.validate(_prediction(names), golds=[GOLD], candidates=LIST)
    return str(refused.value), refused.value.row, refused.value.column


def _without(name: str) -> list[str]:
    return [c for c in CANDIDATES if c != name]


def test_leaving_out_a_hidden_key_reads_exactly_like_leaving_out_any_other_candidate():
    hidden = _refusal("mer.discrete", _without("clip_005"))
    ordinary = _refusal("mer.discrete", _without("clip_006"))
    assert hidden == (
        "prediction file, column 'name': no row for name 'clip_005' (1 of 12 candidates have no row); "
        "write one row for every candidate of the published list", None, "name")
    assert hidden[0].replace("clip_005", "X") == ordinary[0].replace("clip_006", "X")
    assert hidden[1:] == ordinary[1:]


def test_an_unknown_name_and_duplicates_are_refused_the_same_way_whatever_they_duplicate():
    unknown = _refusal("mer.discrete", [*CANDIDATES, "clip_999"])
    assert unknown == ("prediction file, line 14, column 'name': 'clip_999' is not a candidate; write rows for "
                       "the published candidates only", 14, "name")
    swapped = [{"clip_009": "clip_010", "clip_010": "clip_009"}.get(c, c) for c in CANDIDATES]
    hidden_twice = _refusal("mer.discrete", [*CANDIDATES, "clip_009"])  # first on line 11
    ordinary_twice = _refusal("mer.discrete", [*swapped, "clip_010"])  # in the same place
    assert hidden_twice[0] == ("prediction file, line 14, column 'name': 'clip_009' appears twice (also on line 11); "
                               "keep one row per key")
    assert hidden_twice[0].replace("clip_009", "X") == ordinary_twice[0].replace("clip_010", "X")
    assert hidden_twice[1:] == ordinary_twice[1:]


def test_a_complete_prediction_is_scored_on_the_hidden_keys_only():
    scorer = scorers.get_scorer("mer.discrete")
    assert scorer.validate(_prediction(CANDIDATES), golds=[GOLD], candidates=LIST) == 12
    result = scorer.score_splits(golds={"public": GOLD}, pred=_prediction(CANDIDATES), candidates=LIST)["public"]
    assert result.score == pytest.approx(scorer.score(gold=GOLD, pred=_prediction(list(HIDDEN))).score)


def test_a_reference_outside_the_list_is_the_organisers_problem():
    scorer = scorers.get_scorer("mer.discrete")
    gold = GOLD + b"clip_777,sad\n"
    with pytest.raises(SubmissionFormatError) as refused:
        scorer.score_splits(golds={"public": gold}, pred=_prediction(CANDIDATES), candidates=LIST)
    assert refused.value.file == "gold"
    assert "1 reference key(s) are not in the candidate list, e.g. 'clip_777'" in str(refused.value)


@pytest.mark.parametrize(("data", "message"), [
    (b"clip,x\nclip_001,1\n", "file 'candidates', line 1: the first column of the candidate list must be 'name'"),
    (b"name\n", "file 'candidates': the candidate list names no candidate"),
    (b"name\nclip_001\nclip_001\n", "file 'candidates': candidate 'clip_001' is listed twice"),
])
def test_a_broken_candidate_list_is_refused_with_what_to_fix(data, message):
    with pytest.raises(SubmissionFormatError) as refused:
        scorers.get_scorer("mer.discrete").validate(_prediction(CANDIDATES), candidates=data)
    assert str(refused.value).startswith(message)
