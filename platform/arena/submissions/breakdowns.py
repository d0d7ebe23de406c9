"""A split's stored breakdown (``SubmissionScore.breakdown``, as the track's scorer wrote it) in one
documented shape per scorer family, for the submission page, its charts and the API.

Families, by what the breakdown holds (``family`` says which):

- ``classification`` (mer.discrete, mer.multi, mer.prefer, abaw.expr, abaw.ce, abaw.ah)::

    {"family": "classification", "labels": [...], "confusion_matrix": [[...]],  # rows: reference
     "classes": [{"label", "precision", "recall", "f1", "support"}, ...]}     # columns: prediction

  ``precision`` is None for a class never predicted, ``recall`` for a class absent from the reference.
- ``ov-wheel`` (mer.ov-wheel)::

    {"family": "ov-wheel", "level": "level1",   # the ring the track is scored at
     "levels": [{"level", "fscore", "precision", "recall"}, ...],   # the score at every ring
     "wheels": [{"wheel", "fscore", "precision", "recall", "scored_samples"}, ...],
     "has_samples": bool}   # whether a per-sample explanation (CSV) exists: the track's `explain` option

- ``va`` (abaw.va)::

    {"family": "va", "ccc": {"valence", "arousal"},
     "density": {"bins": 20, "range": [-1, 1], "valence": [[...]], "arousal": [[...]]} | None}

  ``density`` counts frames by reference bin (rows) and predicted bin (columns); None for scores
  computed before the scorer recorded it.
- ``au`` (abaw.au): ``{"family": "au", "units": [{"unit", "f1", "tp", "fp", "fn", "tn"}, ...]}``
- ``multi-task`` (abaw.mtl): ``{"family": "multi-task", "va": <va without family>,
  "expression": <classification without family>, "au": <au without family>}``
- ``correlation`` (abaw.emi): ``{"family": "correlation", "pearson": {dimension: r}}``

Anything else gives None (no breakdown to show).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

#: The confidence level of the scorers' bootstrap interval (``scorers.stats.bootstrap_interval``).
INTERVAL_LEVEL = 0.95


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def classification_view(breakdown: Mapping) -> dict | None:
    labels, matrix = breakdown.get("labels"), breakdown.get("confusion_matrix")
    if not isinstance(labels, list) or not isinstance(matrix, list) or len(matrix) != len(labels):
        return None
    f1 = breakdown.get("per_class_f1") or {}
    classes = []
    for i, label in enumerate(labels):
        predicted = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        classes.append({"label": label, "precision": _ratio(matrix[i][i], predicted),
                        "recall": _ratio(matrix[i][i], support), "f1": _number(f1.get(label)),
                        "support": support})
    return {"labels": list(labels), "confusion_matrix": matrix, "classes": classes}


def _wheel_view(breakdown: Mapping) -> dict:
    wheels = [{"wheel": name, "fscore": _number(w.get("fscore")), "precision": _number(w.get("precision")),
               "recall": _number(w.get("recall")), "scored_samples": w.get("scored_samples")}
              for name, w in breakdown["wheels"].items()]
    levels = [{"level": name, "fscore": _number(at.get("fscore")), "precision": _number(at.get("precision")),
               "recall": _number(at.get("recall"))} for name, at in (breakdown.get("levels") or {}).items()]
    return {"level": breakdown.get("level"), "levels": levels, "wheels": wheels,
            "has_samples": bool(breakdown.get("samples"))}


def _va_view(breakdown: Mapping, metrics: Mapping) -> dict:
    ccc = breakdown.get("ccc") or {"valence": metrics.get("ccc_valence"), "arousal": metrics.get("ccc_arousal")}
    density = breakdown.get("density")
    return {"ccc": {"valence": _number(ccc.get("valence")), "arousal": _number(ccc.get("arousal"))},
            "density": density if isinstance(density, dict) else None}


def _au_view(breakdown: Mapping) -> dict:
    confusion = breakdown.get("per_au_confusion") or {}
    units = []
    for unit, f1 in breakdown["per_au_f1"].items():
        (tn, fp), (fn, tp) = confusion.get(unit, ((None, None), (None, None)))
        units.append({"unit": unit, "f1": _number(f1), "tp": tp, "fp": fp, "fn": fn, "tn": tn})
    return {"units": units}


def breakdown_view(breakdown: Mapping | None, metrics: Mapping | None = None) -> dict | None:
    """The breakdown in its family's documented shape (see the module docstring), or None."""
    breakdown, metrics = breakdown or {}, metrics or {}
    if "per_au_f1" in breakdown and isinstance(breakdown.get("expression"), dict):
        expression = classification_view(breakdown["expression"])
        return {"family": "multi-task", "va": _va_view(breakdown, metrics), "expression": expression,
                "au": _au_view(breakdown)}
    if isinstance(breakdown.get("wheels"), dict):
        return {"family": "ov-wheel", **_wheel_view(breakdown)}
    if "confusion_matrix" in breakdown:
        view = classification_view(breakdown)
        return {"family": "classification", **view} if view else None
    if isinstance(breakdown.get("per_au_f1"), dict):
        return {"family": "au", **_au_view(breakdown)}
    if "ccc" in breakdown or "ccc_valence" in metrics and "ccc_arousal" in metrics:
        return {"family": "va", **_va_view(breakdown, metrics)}
    if isinstance(breakdown.get("pearson"), dict):
        return {"family": "correlation", "pearson": {k: _number(v) for k, v in breakdown["pearson"].items()}}
    return None


def interval_view(breakdown: Mapping | None) -> dict | None:
    """``{"low", "high", "level"}`` of the score's bootstrap interval, or None when none was computed
    (or it is undefined)."""
    stored = (breakdown or {}).get("bootstrap")
    if not isinstance(stored, dict):
        return None
    low, high = _number(stored.get("low")), _number(stored.get("high"))
    if low is None or high is None:
        return None
    return {"low": low, "high": high, "level": _number(stored.get("level")) or INTERVAL_LEVEL}


def explanation_rows(breakdown: Mapping) -> Iterator[list]:
    """The per-sample explanation of an ov-wheel split as CSV rows (a header first): the sample, its
    reference and predicted labels (``; ``-separated) and its precision and recall on every wheel
    (empty where the wheel does not score it)."""
    wheels = list((breakdown.get("wheels") or {}).keys())
    yield ["name", "gold", "pred", *(f"{kind}_{wheel}" for wheel in wheels for kind in ("precision", "recall"))]
    for sample in breakdown.get("samples") or ():
        precision, recall = sample.get("precision") or (), sample.get("recall") or ()
        cells = []
        for i in range(len(wheels)):
            cells += [precision[i] if i < len(precision) else None, recall[i] if i < len(recall) else None]
        yield [sample.get("name"), "; ".join(sample.get("gold") or ()), "; ".join(sample.get("pred") or ()), *cells]
