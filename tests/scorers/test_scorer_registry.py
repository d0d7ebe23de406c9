"""The registry, option validation, sources and splits: the API the platform codes against."""

from __future__ import annotations

import pytest

import scorers
from scorers import (
    AssetError,
    Option,
    OptionError,
    ScorerError,
    ScoreResult,
    SubmissionFormatError,
    all_scorers,
    get_scorer,
    scorer_choices,
)
from scorers.registry import register
from tests.scorers.helpers import csv_bytes

OWN_KEYS = {
    "mer.discrete",
    "mer.multi",
    "mer.prefer",
    "abaw.va",
    "abaw.expr",
    "abaw.au",
    "abaw.mtl",
    "abaw.ce",
    "abaw.emi",
    "abaw.ah",
}


def test_every_track_is_registered_sorted_with_choices():
    keys = [scorer.key for scorer in all_scorers()]
    assert OWN_KEYS <= set(keys)
    assert keys == sorted(keys)
    choices = dict(scorer_choices())
    assert choices["abaw.va"] == "abaw.va — ABAW valence-arousal estimation (mean CCC)"


def test_unknown_scorer_is_an_option_error_listing_the_keys():
    with pytest.raises(OptionError) as caught:
        get_scorer("abaw.nope")
    assert str(caught.value).startswith("unknown scorer 'abaw.nope'; known: abaw.ah, abaw.au,")


@pytest.mark.parametrize("key", sorted(OWN_KEYS))
def test_track_contract(key):
    scorer = get_scorer(key)
    assert scorer.greater_is_better is True
    assert scorer.metric_names[0] == scorer.primary_metric
    assert 2 <= scorer.description.count(". ") + 1 <= 6
    names = [option.name for option in scorer.options]
    assert {"bootstrap", "seed"} <= set(names)
    assert scorer.validate_options(None) == {option.name: option.default for option in scorer.options}


def test_registering_a_second_class_under_a_taken_key_fails():
    with pytest.raises(RuntimeError) as caught:

        @register
        class Impostor(type(get_scorer("abaw.va"))):
            pass

    assert str(caught.value) == "scorer key 'abaw.va' is registered twice"


def test_options_are_typed_from_strings():
    scorer = get_scorer("mer.multi")
    options = scorer.validate_options({"bootstrap": "1000", "seed": " 7", "mse_weight": "0.5", "labels": "a, b"})
    assert options == {"labels": ("a", "b"), "mse_weight": 0.5, "bootstrap": 1000, "seed": 7}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"level": "x"},
            "unknown option 'level' for track 'mer.multi'; known options: bootstrap, labels, mse_weight, seed",
        ),
        ({"bootstrap": "many"}, "option 'bootstrap' must be an integer >= 0, got 'many'"),
        ({"bootstrap": 2.5}, "option 'bootstrap' must be an integer >= 0, got 2.5"),
        ({"bootstrap": True}, "option 'bootstrap' must be an integer >= 0, got True"),
        ({"mse_weight": "nan"}, "option 'mse_weight' must be a number >= 0.0, got 'nan'"),
        ({"mse_weight": "-1"}, "option 'mse_weight' must be a number >= 0.0, got '-1'"),
    ],
)
def test_bad_options_name_the_option_and_the_allowed_values(options, message):
    with pytest.raises(OptionError) as caught:
        get_scorer("mer.multi").validate_options(options)
    assert str(caught.value) == message


def test_bool_and_choice_options():
    flag = Option("flag", "bool", False, "a flag")
    assert [flag.convert(v) for v in ("true", "0", "Yes", False)] == [True, False, True, False]
    level = Option("level", "choice", "level1", "ring", choices=("level1", "level2"))
    assert level.convert("level2") == "level2"
    with pytest.raises(OptionError) as caught:
        level.convert("level3")
    assert str(caught.value) == "option 'level' must be one of level1, level2, got 'level3'"


def test_sources_may_be_paths_or_bytes_and_unreadable_paths_are_one_line(tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_bytes(csv_bytes("name,discrete", "a,happy"))
    scorer = get_scorer("mer.discrete")
    assert scorer.score(gold=gold, pred=str(gold)).score == 1.0
    assert scorer.score(gold=gold.read_bytes(), pred=bytearray(gold.read_bytes())).score == 1.0
    with pytest.raises(ScorerError) as caught:
        scorer.score(gold=gold, pred=tmp_path / "missing.csv")
    assert str(caught.value) == (f"cannot read prediction file '{tmp_path / 'missing.csv'}': No such file or directory")
    with pytest.raises(ScorerError) as caught:
        scorer.score(gold=tmp_path, pred=gold)
    assert str(caught.value) == f"cannot read gold file '{tmp_path}': Is a directory"


def test_score_splits_checks_keys_against_the_union_and_scores_each_split():
    public = csv_bytes("image_location,valence,arousal", "f1,0.5,0.1", "f2,-0.5,-0.1")
    private = csv_bytes("image_location,valence,arousal", "f3,0.2,0.3", "f4,-0.2,-0.3")
    pred = csv_bytes("image_location,valence,arousal", "f4,-0.2,-0.3", "f1,0.5,0.1", "f3,0.2,0.3", "f2,-0.5,-0.1")
    scorer = get_scorer("abaw.va")
    results = scorer.score_splits(golds={"public": public, "private": private}, pred=pred)
    assert set(results) == {"public", "private"}
    assert results["public"].score == pytest.approx(1.0, abs=1e-15)
    assert results["private"].score == pytest.approx(1.0, abs=1e-15)
    assert isinstance(results["public"], ScoreResult)
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.score(gold=public, pred=pred)
    assert str(caught.value) == (
        "prediction file, line 2, column 'image_location': 'f4' is not in the test set; write "
        "rows for the test samples only"
    )
    assert scorer.validate(pred, golds=[public, private]) == 4


def test_duplicate_keys_in_the_reference_are_gold_errors():
    gold = csv_bytes("name,discrete", "a,happy", "a,sad")
    with pytest.raises(SubmissionFormatError) as caught:
        get_scorer("mer.discrete").score(gold=gold, pred=csv_bytes("name,discrete", "a,sad"))
    assert str(caught.value) == (
        "gold file, line 3, column 'name': 'a' appears twice (also on line 2); keep one row per key"
    )


def test_score_result_to_json_is_plain():
    result = get_scorer("mer.discrete").score(
        gold=csv_bytes("name,discrete", "a,happy", "b,sad"),
        pred=csv_bytes("name,discrete", "a,happy", "b,happy"),
    )
    payload = result.to_json()
    assert payload["score"] == pytest.approx(1 / 3)
    assert type(payload["score"]) is float
    assert payload["breakdown"]["confusion_matrix"][2] == [0, 0, 1, 0, 0, 0]
    assert type(payload["breakdown"]["confusion_matrix"][2][2]) is int


def test_tracks_without_assets_accept_none_and_asset_error_exists():
    get_scorer("abaw.va").validate_assets(None, {})
    assert issubclass(AssetError, ScorerError)
    assert scorers.SubmissionFormatError is SubmissionFormatError


def test_an_absent_track_module_is_skipped_but_a_broken_one_is_not(monkeypatch, tmp_path):
    from scorers import registry

    monkeypatch.setattr(registry, "TRACK_MODULES", ("scorers.tracks.mer", "scorers.tracks.absent"))
    monkeypatch.setattr(registry, "_loaded", False)
    registry._load()  # no error: the absent module is left out
    assert registry.get_scorer("mer.discrete").key == "mer.discrete"

    (tmp_path / "broken_track_module.py").write_text("import a_package_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "TRACK_MODULES", ("broken_track_module",))
    monkeypatch.setattr(registry, "_loaded", False)
    with pytest.raises(ModuleNotFoundError) as caught:
        registry._load()
    assert caught.value.name == "a_package_that_is_not_installed"
