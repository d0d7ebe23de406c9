"""Opt-in WordNet lemmatisation of labels missing from the word-form table."""

from __future__ import annotations

from pathlib import Path

import nltk.data
import pytest

from scorers import AssetError, get_scorer
from scorers.wheel import wordnet
from tests.conftest import require

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
GOLD = b"name,openset\na,worry\nb,loneliness\nc,hope\n"
# 'worries', 'lonelier' and 'hopes' are not in the demo word-form table; their WordNet lemmas
# 'worry', 'lonely' and 'hope' are.
PRED = b"name,openset\na,worries\nb,lonelier\nc,\"hopes, zzzx\"\n"


@pytest.fixture(scope="module")
def lemmas():
    reason = wordnet.wordnet_unavailable_reason()
    require(reason is None, reason or "")
    return wordnet.wordnet_lemmas()


def test_lexnames_lists_the_45_lexicographer_files() -> None:
    lines = wordnet.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[3] == "03\tnoun.Tops\t1"
    assert lines[29] == "29\tverb.body\t2"
    assert lines[44] == "44\tadj.ppl\t3"


@pytest.mark.wordnet
def test_lemmas_through_wordnet(lemmas) -> None:
    assert lemmas.lemmas("worries") == ("worry",)
    assert lemmas.lemmas("lonelier") == ("lonely",)
    assert lemmas.lemmas("saddened") == ("sadden",)
    assert lemmas.lemmas("zzzx") == ()


@pytest.mark.wordnet
def test_lemmatize_unknown_maps_missing_labels(lemmas) -> None:
    scorer = get_scorer("mer.ov-wheel")
    official = scorer.score(gold=GOLD, pred=PRED, assets=DEMO)
    assert official.score == 0.0
    opted = scorer.score(gold=GOLD, pred=PRED, assets=DEMO,
                         options={"lemmatize_unknown": "true", "explain": "true"})
    # every reference word sits on every wheel it is scored on, and each lemma maps onto it
    assert opted.score == 1.0
    assert opted.breakdown["samples"][2]["pred"] == ("hopes", "zzzx")
    labels = opted.breakdown["labels"]
    assert labels["hopes"] == {
        "lemma": "hope", "wheel1": "joy", "wheel2": "anticipation", "wheel3": "joy",
        "wheel4": "optimism", "wheel5": "anticipation"}
    assert labels["zzzx"] == {
        "dropped": "not in the word-form table, nor is any of its WordNet lemmas"}


def test_missing_wordnet_is_an_asset_error(monkeypatch, tmp_path: Path) -> None:
    def not_found(resource, paths=None):
        raise LookupError(resource)

    monkeypatch.setattr(nltk.data, "find", not_found)
    monkeypatch.setattr(wordnet, "DEBIAN_DIRS", (tmp_path / "wordnet",))
    monkeypatch.setattr(wordnet, "_loaded", None)
    monkeypatch.delenv("WNSEARCHDIR", raising=False)
    expected = (
        "option lemmatize_unknown=true needs WordNet: WordNet data not found: neither nltk's data "
        f"path (nltk.download('wordnet')) nor {tmp_path / 'wordnet'} (Debian package "
        "wordnet-base) holds it; install it or set lemmatize_unknown=false"
    )
    scorer = get_scorer("mer.ov-wheel")
    with pytest.raises(AssetError) as caught:
        scorer.score(gold=GOLD, pred=PRED, assets=DEMO, options={"lemmatize_unknown": True})
    assert str(caught.value) == expected
    with pytest.raises(AssetError) as caught:
        scorer.validate_assets(DEMO, scorer.validate_options({"lemmatize_unknown": "true"}))
    assert str(caught.value) == expected
    scorer.validate_assets(DEMO, scorer.validate_options(None))
