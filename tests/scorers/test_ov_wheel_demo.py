"""The project's own demo wheel set: it loads, its words map to themselves, hand-worked scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorers.wheel import LEVELS, load_wheel_set, score_label_lists

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"


@pytest.fixture(scope="module")
def demo():
    return load_wheel_set(DEMO)


def test_demo_folder_is_csv_only_and_small(demo) -> None:
    assert sorted(p.name for p in DEMO.glob("*.csv")) == [
        "format.csv", "synonym.csv", "wheel1.csv", "wheel2.csv", "wheel3.csv", "wheel4.csv",
        "wheel5.csv",
    ]
    assert not list(DEMO.glob("*.xlsx"))
    assert len(demo.word_forms) < 500
    assert all(len(wheel.tree) >= 6 for wheel in demo.wheels)


@pytest.mark.parametrize("level", LEVELS)
def test_every_wheel_word_maps_to_itself(demo, level: str) -> None:
    label_map = demo.label_map(level)
    for number, wheel in enumerate(demo.wheels):
        categories = wheel.categories(level)
        for word in wheel.words:
            first_present = next(c for c in demo.candidates(word) if c in categories)
            assert first_present == word, (wheel.name, word)
            assert label_map.category(word, number) == categories[word], (wheel.name, word)


def test_synonyms_are_not_wheel_words(demo) -> None:
    wheel_words = frozenset().union(*(wheel.words for wheel in demo.wheels))
    for synonym, candidates in demo.synonyms.items():
        if synonym not in wheel_words:
            assert candidates <= wheel_words
        else:
            assert candidates == {synonym}


def test_joy_against_happy_is_lost_on_the_wheel_without_joy(demo) -> None:
    # 'happy' -> happiness (cheerfulness/joy) matches 'joy' on wheels 1, 2, 3 and 5. Wheel 4
    # (Plutchik's dyads) has no joy: the only reference label is dropped, no sample counts there,
    # and that wheel's P = R = F = 0. Mean over five wheels: 4/5.
    scores = score_label_lists([("joy",)], [("happy",)], demo.label_map("level1"))
    assert [o.fscore for o in scores.per_wheel] == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert (scores.fscore, scores.precision, scores.recall) == (0.8, 0.8, 0.8)


def test_hand_worked_level2_sample(demo) -> None:
    # reference: grief, worry; prediction: sorrow, anxious, bored
    # wheels 1-3 (level2 = Parrott's groups): G = {sadness, nervousness}; 'bored' is unknown
    #   there, P = {sadness, nervousness}: precision 1, recall 1.
    # wheel 4 (dyads): grief and sorrow are not on it; G = P = {nervousness}: 1, 1.
    # wheel 5 (intensities): G = {grief, apprehension}, P = {sadness, apprehension, boredom}:
    #   precision 1/3, recall 1/2, F = 2/5.
    scores = score_label_lists([("grief", "worry")], [("sorrow", "anxious", "bored")],
                               demo.label_map("level2"))
    assert [(o.precision, o.recall) for o in scores.per_wheel] == [
        (1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0), (1 / 3, 1 / 2)]
    assert scores.per_wheel[4].fscore == pytest.approx(2 / 5, rel=1e-15)
    assert scores.precision == pytest.approx(13 / 15, rel=1e-15)
    assert scores.recall == pytest.approx(9 / 10, rel=1e-15)
    assert scores.fscore == pytest.approx(22 / 25, rel=1e-15)


def test_hand_worked_two_samples_level1(demo) -> None:
    # sample a: G = {love}, P = {warm (-> affection), xyz (unknown)}
    #   wheel1 love/love: 1,1. wheel2: 'love' is not on it (Plutchik's primaries): not scored.
    #   wheel3: not scored. wheel4 love/love: 1,1. wheel5: not scored.
    # sample b: G = {furious (-> fury), scared (-> fear)}, P = {} : scored everywhere fury and
    #   fear exist: wheel1 anger+fear, wheel2, wheel3, wheel4 (fury -> aggressiveness; fear is
    #   not on it), wheel5: precision 0, recall 0.
    # wheel1: P = (1 + 0)/2, R = (1 + 0)/2 -> F 0.5; wheel2, wheel3, wheel5: only b: 0;
    # wheel4: a and b: 0.5. Mean F = (0.5 + 0 + 0 + 0.5 + 0)/5 = 0.2.
    scores = score_label_lists([("love",), ("furious", "scared")], [("warm", "xyz"), ()],
                               demo.label_map("level1"))
    assert [o.fscore for o in scores.per_wheel] == [0.5, 0.0, 0.0, 0.5, 0.0]
    assert [int(o.scored.sum()) for o in scores.per_wheel] == [2, 1, 1, 2, 1]
    assert scores.fscore == pytest.approx(0.2, rel=1e-15)
