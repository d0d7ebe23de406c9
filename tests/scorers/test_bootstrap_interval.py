"""The seeded, vectorised bootstrap interval of the primary score."""

from __future__ import annotations

import numpy as np
import pytest

from scorers import get_scorer
from scorers.stats import Resampling, bootstrap_interval
from tests.scorers.helpers import csv_bytes

RNG = np.random.default_rng(3)
N = 400
FRAMES = [f"f{i:04d}" for i in range(N)]
AUS = "AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26"


def _rows(values) -> list[str]:
    return [f"{key}," + ",".join(str(v) for v in row) for key, row in zip(FRAMES, values, strict=True)]


def _classes(k: int, missing: bool) -> tuple[np.ndarray, np.ndarray]:
    gold = RNG.integers(0, k, N)
    if missing:
        gold[::17] = -1
    pred = np.where(RNG.random(N) < 0.6, np.maximum(gold, 0), RNG.integers(0, k, N))
    return gold, pred


def _va(n_dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    gold = np.round(RNG.uniform(-1, 1, (N, n_dims)), 4)
    pred = np.round(np.clip(gold * 0.7 + RNG.normal(0, 0.3, gold.shape), -1, 1), 4)
    gold[::13, 0] = -5
    return gold, pred


def _case(key: str) -> tuple[bytes, bytes]:
    labels = ["neutral", "angry", "happy", "sad", "worried", "surprise"]
    if key in ("mer.discrete", "mer.multi"):
        g, p = _classes(6, False)
        gv, pv = np.round(RNG.normal(0, 2, N), 3), np.round(RNG.normal(0, 2, N), 3)
        if key == "mer.discrete":
            return (
                csv_bytes("name,discrete", *_rows([[labels[i]] for i in g])),
                csv_bytes("name,discrete", *_rows([[labels[i]] for i in p])),
            )
        return (
            csv_bytes("name,discrete,valence", *_rows([[labels[i], v] for i, v in zip(g, gv, strict=True)])),
            csv_bytes("name,discrete,valence", *_rows([[labels[i], v] for i, v in zip(p, pv, strict=True)])),
        )
    if key == "mer.prefer":
        g, p = _classes(3, False)
        names = ["a1", "a2", "same"]
        return (
            csv_bytes("name,preference", *_rows([[names[i]] for i in g])),
            csv_bytes("name,preference", *_rows([[names[i]] for i in p])),
        )
    if key == "abaw.va":
        g, p = _va()
        header = "image_location,valence,arousal"
        return csv_bytes(header, *_rows(g)), csv_bytes(header, *_rows(p))
    if key == "abaw.expr":
        g, p = _classes(8, True)
        header = "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
        return csv_bytes(header, *_rows(g[:, None])), csv_bytes(header, *_rows(p[:, None]))
    if key == "abaw.au":
        g = RNG.integers(0, 2, (N, 12))
        p = np.where(RNG.random((N, 12)) < 0.7, g, 1 - g)
        g[::11, 3] = -1
        header = f"image_location,{AUS}"
        return csv_bytes(header, *_rows(g)), csv_bytes(header, *_rows(p))
    if key == "abaw.mtl":
        gv, pv = _va()
        ge, pe = _classes(8, True)
        ga = RNG.integers(0, 2, (N, 12))
        pa = np.where(RNG.random((N, 12)) < 0.7, ga, 1 - ga)
        header = "image,valence,arousal,expression,aus"
        return (
            csv_bytes(header, *_rows(np.column_stack([gv, ge, ga]).tolist())),
            csv_bytes(header, *_rows(np.column_stack([pv, pe, pa]).tolist())),
        )
    if key == "abaw.emi":
        g = np.round(RNG.random((N, 6)), 3)
        p = np.round(np.clip(g + RNG.normal(0, 0.3, g.shape), 0, 1), 3)
        header = "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy"
        return csv_bytes(header, *_rows(g)), csv_bytes(header, *_rows(p))
    if key == "abaw.ce":
        g, p = _classes(7, False)
        header = (
            "image_location,Fearfully_Surprised,Happily_Surprised,Sadly_Surprised,"
            "Disgustedly_Surprised,Angrily_Surprised,Sadly_Fearful,Sadly_Angry"
        )
        return csv_bytes(header, *_rows(g[:, None])), csv_bytes(header, *_rows(p[:, None]))
    g, p = _classes(2, False)
    return ("\n".join(_rows(g[:, None])).encode(), "\n".join(_rows(p[:, None])).encode())


TRACKS = [
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
]


@pytest.mark.parametrize("key", TRACKS)
def test_resampling_statistic_reproduces_the_score(key):
    scorer = get_scorer(key)
    gold_bytes, pred_bytes = _case(key)
    options = scorer.validate_options({})
    gold = scorer._read(gold_bytes, "gold", options)
    pred = scorer._read(pred_bytes, "prediction", options)
    pred = pred.take(scorer._check_key_rule(pred, [gold]))
    result = scorer.compute(gold, pred, options=options, assets=None)
    parts = scorer.resampling(gold, pred, options=options, assets=None)
    weights = np.asarray(parts.counts, dtype=np.float64)[None, :]
    sums = weights if parts.features is None else weights @ parts.features
    assert float(parts.statistic(sums)[0]) == pytest.approx(result.score, abs=1e-9)


@pytest.mark.parametrize("key", TRACKS)
def test_interval_is_seeded_and_brackets_the_score(key):
    scorer = get_scorer(key)
    gold, pred = _case(key)
    first = scorer.score(gold=gold, pred=pred, options={"bootstrap": "300", "seed": "5"})
    again = scorer.score(gold=gold, pred=pred, options={"bootstrap": 300, "seed": 5})
    other = scorer.score(gold=gold, pred=pred, options={"bootstrap": 300, "seed": 6})
    interval = first.breakdown["bootstrap"]
    assert interval == again.breakdown["bootstrap"]
    assert interval != other.breakdown["bootstrap"]
    assert interval["resamples"] == 300 and interval["seed"] == 5
    assert interval["low"] < first.score < interval["high"]
    assert "bootstrap" not in scorer.score(gold=gold, pred=pred).breakdown


def test_interval_of_a_known_proportion():
    # accuracy of 1000 samples with 700 correct: the 95% interval is close to 0.7 +- 1.96 * se
    resampling = Resampling(
        counts=np.array([700, 300]),
        features=None,
        statistic=lambda weights: weights[:, 0] / weights.sum(axis=1),
    )
    interval = bootstrap_interval(resampling, resamples=4000, seed=1)
    half_width = 1.96 * np.sqrt(0.7 * 0.3 / 1000)
    assert interval["low"] == pytest.approx(0.7 - half_width, abs=0.004)
    assert interval["high"] == pytest.approx(0.7 + half_width, abs=0.004)
