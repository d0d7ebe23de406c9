"""Chart specifications for ``static/arena/charts.js``: plain dicts a template embeds with ``json_script``
next to a ``<canvas data-chart="<json id>">``. Each spec has a ``type`` (``line``, ``bar``, ``heatmap``,
``timeline``) and a ``title`` (the canvas's accessible name); the page carries the same numbers as a
table, so the chart is never the only way to read them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def confusion_heatmap(view: Mapping, *, title: str) -> dict:
    """The confusion matrix of a ``classification`` breakdown view: reference down, prediction across."""
    return {"type": "heatmap", "title": title, "xLabels": view["labels"], "yLabels": view["labels"],
            "values": view["confusion_matrix"], "x": {"title": "predicted"}, "y": {"title": "reference"}}


def per_class_bars(view: Mapping, *, title: str) -> dict:
    """Precision, recall and F1 of each class of a ``classification`` breakdown view."""
    classes = view["classes"]
    return {"type": "bar", "title": title, "labels": [c["label"] for c in classes],
            "series": [{"label": key, "values": [c[key] for c in classes]} for key in ("precision", "recall", "f1")],
            "y": {"min": 0, "max": 1}}


def density_heatmap(density: Mapping, dimension: str, *, title: str) -> dict:
    """A ``va`` breakdown's predicted-vs-reference counts of one dimension, reference rising upwards."""
    bins = int(density["bins"])
    low, high = density.get("range", (-1.0, 1.0))
    edges = [f"{low + (high - low) * i / bins:.1f}" for i in range(bins)]
    return {"type": "heatmap", "title": title, "xLabels": edges, "yLabels": edges[::-1],
            "values": list(density[dimension])[::-1], "x": {"title": f"predicted {dimension}"},
            "y": {"title": f"reference {dimension}"}, "hideValues": True}


def value_bars(labels: Iterable[str], values: Iterable[float | None], *, title: str, label: str,
               low: float = 0.0) -> dict:
    """One bar per label (e.g. F1 per action unit, F per wheel)."""
    return {"type": "bar", "title": title, "labels": list(labels),
            "series": [{"label": label, "values": list(values)}], "y": {"min": low, "max": 1}}


def score_history(points_by_split: Mapping[str, list[tuple[str, float, str]]], *, metric: str) -> dict:
    """A team's scores over time, one line per split: ``{split: [(iso time, score, label), ...]}``."""
    return {"type": "line", "title": f"Your team's {metric} over time, per split",
            "x": {"type": "time", "title": "submitted (UTC)"}, "y": {"title": metric},
            "series": [{"label": split, "points": [{"x": t, "y": y, "label": text} for t, y, text in points]}
                       for split, points in points_by_split.items() if points]}


def team_score_history(submissions: Iterable, *, splits: Iterable[str], metric: str) -> dict | None:
    """The chart and its table of a team's scored submissions to one phase, oldest first: ``{"spec",
    "rows": [(submission, {split: score})], "splits"}`` over the ``splits`` the reader may see (scores
    prefetched), or None when there is nothing to draw."""
    shown = [split for split in ("public", "private") if split in set(splits)]
    rows = []
    for submission in sorted(submissions, key=lambda s: (s.created_at, s.pk)):
        scores = {s.split: s.score for s in submission.scores.all() if s.split in shown}
        if scores:
            rows.append((submission, scores))
    if not rows:
        return None
    points = {split: [(s.created_at.isoformat(), scores[split], f"#{s.pk} {s.method_name}")
                      for s, scores in rows if split in scores] for split in shown}
    return {"spec": score_history(points, metric=metric), "rows": rows, "splits": shown}


def robustness_lines(curves: Mapping[str, list], *, metric: str, split: str, order: Iterable[str] = ()) -> dict | None:
    """A split's robustness curve (``breakdown["robustness"]["curves"]``: ``{family: [[severity, score],
    ...]}``, clean at severity 0), one line per corruption family, families in ``order`` (the protocol's, as
    in the condition table; the stored JSON has lost it), others after; a failed condition's score is null (a
    gap in its line). None when there is no family to draw."""
    if not curves:
        return None
    rank = {family: i for i, family in enumerate(dict.fromkeys(order))}
    curves = {family: curves[family] for family in sorted(curves, key=lambda f: (rank.get(f, len(rank)), f))}
    return {"type": "line", "title": f"Robustness curve, {split} split: {metric} against severity, "
                                     "one line per corruption family, clean at severity 0",
            "x": {"type": "linear", "title": "severity"}, "y": {"title": metric},
            "series": [{"label": family, "points": [{"x": severity, "y": score} for severity, score in points]}
                       for family, points in curves.items()]}


def phase_timeline(steps: Iterable, *, now_iso: str, title: str = "Phases") -> dict | None:
    """The phases of ``challenge_timeline`` (label, opens_at, closes_at, state) as bars on a time axis, the
    current phase highlighted and a line at ``now_iso``. None when there is no phase."""
    items = [{"label": step.label, "start": step.opens_at.isoformat(), "end": step.closes_at.isoformat(),
              "current": step.state == "current"} for step in steps]
    if not items:
        return None
    return {"type": "timeline", "title": title, "now": now_iso, "items": items}
