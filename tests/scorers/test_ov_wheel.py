"""The ``mer.ov-wheel`` track: conformance, a plain reference loop, options, files, breakdown."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from scorers import AssetError, OptionError, SubmissionFormatError, get_scorer
from scorers.wheel import load_wheel_set, parse_label_cell
from tests.conftest import require
from tests.scorers.helpers import REPO_ROOT, conformance_dir

DEMO = REPO_ROOT / "fixtures" / "wheels" / "demo"
OV_CASES = ("001-10", "001-11", "001-12", "004-01", "004-02")


@pytest.fixture(scope="module")
def scorer():
    return get_scorer("mer.ov-wheel")


def csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    lines = ["name,openset"] + [f'{name},"{cell}"' for name, cell in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.conformance
@pytest.mark.parametrize("prefix", OV_CASES)
def test_conformance_cases_through_the_api(scorer, prefix: str) -> None:
    base = conformance_dir()
    require(base.is_dir(), f"conformance folder {base} is absent")
    case = next((base / "cases").glob(f"{prefix}-mer.ov-wheel"))
    spec = json.loads((case / "case.json").read_text())
    result = scorer.score(gold=case / "gold.csv", pred=case / "pred.csv",
                          options=spec["options"], assets=base / spec["assets"])
    expected = spec["expected"]
    assert result.score == pytest.approx(expected["score"], rel=1e-9, abs=0)
    for name, value in expected["metrics"].items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-9, abs=0)


def reference_loop(gold: dict[str, str], pred: dict[str, str], wheel_set, level: str):
    """The organisers' algorithm written plainly: per wheel, per sample, per label."""
    rows = []
    for wheel in wheel_set.wheels:
        categories = wheel.categories(level)

        def category(label: str, categories: dict[str, str] = categories) -> str:
            if label not in wheel_set.word_forms:
                return ""
            found = []
            for base in wheel_set.word_forms[label]:
                found.extend(wheel_set.synonyms[base])
            for candidate in sorted(found):
                if candidate in categories:
                    return categories[candidate]
            return ""

        precision, recall = [], []
        for name, cell in gold.items():
            g = {category(label) for label in parse_label_cell(cell)} - {""}
            p = {category(label) for label in parse_label_cell(pred[name])} - {""}
            if not g:
                continue
            precision.append(len(g & p) / len(p) if p else 0)
            recall.append(len(g & p) / len(g))
        mp = np.mean(precision) if precision else 0
        mr = np.mean(recall) if recall else 0
        rows.append([0 if mp + mr == 0 else 2 * (mp * mr) / (mp + mr), mp, mr])
    return np.mean(rows, axis=0).tolist()


@pytest.mark.parametrize(("level", "seed"), [("level1", 1), ("level2", 2), ("level1", 3)])
def test_matches_a_plain_reference_loop_on_random_demo_data(scorer, level: str, seed: int) -> None:
    wheel_set = load_wheel_set(DEMO)
    rng = random.Random(seed)
    vocabulary = sorted(wheel_set.word_forms) + ["xyz", "not-a-feeling", "Joy ", "HAPPY"]
    gold, pred = {}, {}
    for i in range(300):
        gold[f"s{i}"] = ", ".join(rng.sample(vocabulary, rng.randint(0, 4)))
        pred[f"s{i}"] = ", ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 5)))
    for i in range(300, 340):  # candidates outside the test set
        pred[f"s{i}"] = "joy"
    result = scorer.score(gold=csv_bytes(list(gold.items())),
                          pred=csv_bytes(list(reversed(pred.items()))),
                          options={"level": level}, assets=DEMO)
    fscore, precision, recall = reference_loop(gold, pred, wheel_set, level)
    assert result.metrics == pytest.approx(
        {"fscore": fscore, "precision": precision, "recall": recall}, rel=1e-12, abs=0)
    assert result.score == result.metrics["fscore"]


def test_track_contract(scorer) -> None:
    assert scorer.primary_metric == "fscore"
    assert scorer.metric_names == ("fscore", "precision", "recall")
    assert scorer.needs_assets and scorer.allows_extra_keys and scorer.greater_is_better
    assert scorer.validate_options(None) == {
        "level": "level1", "lemmatize_unknown": False, "explain": False, "expected_rows": 0,
        "bootstrap": 0, "seed": 0}
    assert scorer.validate_options({"level": "level2", "lemmatize_unknown": "false"})["level"] \
        == "level2"
    with pytest.raises(OptionError, match="option 'level' must be one of level1, level2"):
        scorer.validate_options({"level": "level3"})


def test_breakdown_explains_each_label(scorer) -> None:
    gold = csv_bytes([("a", "['love']"), ("b", "furious, scared")])
    pred = csv_bytes([("b", ""), ("a", "[Warm, xyz, warm]"), ("c", "joy")])
    plain = scorer.score(gold=gold, pred=pred, assets=DEMO).to_json()["breakdown"]
    result = scorer.score(gold=gold, pred=pred, assets=DEMO, options={"explain": "true"})
    breakdown = result.to_json()["breakdown"]
    assert "samples" not in plain  # the per-sample part is asked for
    assert plain == {key: value for key, value in breakdown.items() if key != "samples"}
    assert breakdown["samples"][0] == {
        "name": "a", "gold": ["love"], "pred": ["warm", "xyz", "warm"],
        "precision": [1.0, None, None, 1.0, None], "recall": [1.0, None, None, 1.0, None]}
    assert breakdown["samples"][1] == {
        "name": "b", "gold": ["furious", "scared"], "pred": [],
        "precision": [0.0] * 5, "recall": [0.0] * 5}
    assert len(breakdown["samples"]) == 2  # candidate 'c' is not scored
    assert breakdown["labels"] == {
        "love": {"wheel1": "love", "wheel2": None, "wheel3": None, "wheel4": "love",
                 "wheel5": None, "dropped": "no synonym candidate in wheel2 or wheel3 or wheel5"},
        "warm": {"wheel1": "love", "wheel2": "trust", "wheel3": "joy", "wheel4": "love",
                 "wheel5": "trust"},
        "xyz": {"dropped": "not in the word-form table"},
        "furious": {"wheel1": "anger", "wheel2": "anger", "wheel3": "anger",
                    "wheel4": "aggressiveness", "wheel5": "anger"},
        "scared": {"wheel1": "fear", "wheel2": "fear", "wheel3": "fear", "wheel4": None,
                   "wheel5": "fear", "dropped": "no synonym candidate in wheel4"},
    }
    assert breakdown["wheels"]["wheel1"] == {"fscore": 0.5, "precision": 0.5, "recall": 0.5,
                                             "scored_samples": 2}
    assert breakdown["level"] == "level1"
    assert result.score == pytest.approx(0.2, rel=1e-15)
    json.dumps(result.to_json())


def test_bootstrap_interval_is_seeded(scorer) -> None:
    rows = [(f"s{i}", ["joy", "sadness", "fear, anger", "xyz"][i % 4]) for i in range(40)]
    pred = [(f"s{i}", ["happy", "sad", "scared", "joy"][i % 4]) for i in range(40)]
    options = {"bootstrap": 200, "seed": 7}
    first = scorer.score(gold=csv_bytes(rows), pred=csv_bytes(pred), options=options,
                         assets=DEMO)
    again = scorer.score(gold=csv_bytes(rows), pred=csv_bytes(pred), options=options,
                         assets=DEMO)
    interval = first.breakdown["bootstrap"]
    assert interval == again.breakdown["bootstrap"]
    assert interval["resamples"] == 200 and interval["seed"] == 7
    assert interval["low"] < first.score < interval["high"]
    perfect = scorer.score(gold=csv_bytes(rows), pred=csv_bytes(rows), options=options,
                           assets=DEMO)
    # every resample is perfect on wheels 1, 2, 3 and 5; wheel 4 (dyads) knows none of the words
    assert perfect.score == 0.8
    assert (perfect.breakdown["bootstrap"]["low"], perfect.breakdown["bootstrap"]["high"]) == (
        0.8, 0.8)


def test_validate_and_key_rule(scorer) -> None:
    gold = csv_bytes([("a", "joy"), ("b", "sad")])
    assert scorer.validate(csv_bytes([("a", ""), ("b", "x"), ("c", "y")]), golds=[gold]) == 3
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(csv_bytes([("a", "joy")]), golds=[gold])
    assert "no row for name 'b'" in str(caught.value)
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(b"name,labels\na,joy\n")
    assert str(caught.value).startswith("prediction file, line 1, column 'openset': the header")
    with pytest.raises(SubmissionFormatError, match="line 3, column 'name': 'a' appears twice"):
        scorer.validate(b"name,openset\na,joy\na,sad\n")


def test_score_splits_scores_each_split_on_its_own_keys(scorer) -> None:
    pred = csv_bytes([("a", "happy"), ("b", "joy"), ("c", "anger")])
    results = scorer.score_splits(
        golds={"public": csv_bytes([("a", "joy")]), "private": csv_bytes([("c", "sadness")])},
        pred=pred, assets=DEMO)
    assert results["public"].score == pytest.approx(0.8, rel=1e-15)
    assert results["private"].score == 0.0


def test_assets_are_required_and_checked(scorer, tmp_path: Path) -> None:
    gold = csv_bytes([("a", "joy")])
    with pytest.raises(AssetError, match="needs an assets folder"):
        scorer.score(gold=gold, pred=gold)
    with pytest.raises(AssetError, match="lacks format.csv or format.xlsx"):
        scorer.score(gold=gold, pred=gold, assets=tmp_path)
    scorer.validate_assets(DEMO, scorer.validate_options(None))


def test_label_lists_are_kept_per_column_while_it_lives(scorer) -> None:
    from scorers.tracks import ov_wheel

    column = np.array(["joy, sad", ""], dtype=object)
    first = ov_wheel._label_lists(column)
    assert ov_wheel._label_lists(column) is first
    assert ov_wheel._label_lists(np.array(["joy, sad", ""], dtype=object)) is not first
    key = id(column)
    del column
    assert key not in ov_wheel._parsed_columns
    # end to end: one reference, two predictions
    gold = csv_bytes([("a", "joy"), ("b", "rage")])
    first = scorer.score(gold=gold, pred=csv_bytes([("a", "happy"), ("b", "joy")]), assets=DEMO)
    second = scorer.score(gold=gold, pred=csv_bytes([("a", "sad"), ("b", "fury")]), assets=DEMO)
    # wheel 4 (dyads) scores sample b only: rage and fury -> aggressiveness, joy is not on it
    assert [w["fscore"] for w in first.breakdown["wheels"].values()] == [0.5, 0.5, 0.5, 0.0, 0.5]
    assert [w["fscore"] for w in second.breakdown["wheels"].values()] == [0.5, 0.5, 0.5, 1.0, 0.5]
