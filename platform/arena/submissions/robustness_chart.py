"""The robustness curve of a submission's split (score against severity, one line per corruption family,
clean at severity 0) laid out for an inline SVG: the page needs no script and no chart library."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from arena.challenges.robustness import CLEAN_FAMILY, Protocol, ProtocolCondition, curves

WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 170, 16, 44
#: Colours that stay apart for the common colour-vision deficiencies (Okabe-Ito), each with its own dash.
STYLES = (("#0072b2", ""), ("#d55e00", "6 3"), ("#009e73", "2 3"), ("#cc79a7", "8 3 2 3"), ("#e69f00", "4 4"),
          ("#56b4e9", "1 2"), ("#000000", "10 4"))
TICKS = 5
#: A protocol's summary rule in readers' words.
SUMMARY_WORDS = {"mean": "mean", "worst": "worst", "auc": "area under the score-vs-severity curve"}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class ChartSeries:
    family: str
    colour: str
    dash: str
    points: str  # the polyline's "x,y x,y ..."
    markers: tuple[ChartPoint, ...]
    failed: tuple[ChartPoint, ...]  # on the severity axis: the conditions that have no score
    legend_y: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class RobustnessChart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    series: tuple[ChartSeries, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    description: str


def _number(value: float) -> str:
    return f"{value:.4g}"


def robustness_chart(conditions: Sequence[dict], *, metric: str) -> RobustnessChart | None:
    """The chart of a split's per-condition scores (``SubmissionScore.conditions``), or None when no family
    has a point to draw (no corrupted condition, or all failed). A failed condition has no point on its line:
    it is marked on the severity axis instead."""
    protocol = Protocol(tuple(ProtocolCondition(str(c["name"]), str(c.get("condition", "")), str(c["family"]),
                                                float(c["severity"])) for c in conditions), seed=0)
    scores = {str(c["name"]): c.get("score") for c in conditions}
    every = {family: points for family, points in curves(protocol, scores).items() if family != CLEAN_FAMILY}
    families = {family: [(x, float(y)) for x, y in points if y is not None and math.isfinite(y)]
                for family, points in every.items()}
    families = {family: points for family, points in families.items() if points}
    if not families:
        return None
    missing = {family: [x for x, y in every[family] if y is None or not math.isfinite(y)] for family in families}
    xs = [x for points in every.values() for x, _ in points]
    ys = [y for points in families.values() for _, y in points]
    x_high = max(max(xs), 1.0)
    y_low, y_high = min(0.0, min(ys)), max(ys)
    if y_high <= 1.0:
        y_high = 1.0
    if y_high == y_low:
        y_high = y_low + 1.0
    plot_right, plot_bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def px(x: float) -> float:
        return round(LEFT + (plot_right - LEFT) * x / x_high, 1)

    def py(y: float) -> float:
        return round(plot_bottom - (plot_bottom - TOP) * (y - y_low) / (y_high - y_low), 1)

    names = {(c["family"], float(c["severity"])): str(c["name"]) for c in conditions}
    clean = next((str(c["name"]) for c in conditions if c["family"] == CLEAN_FAMILY), "clean")
    series = []
    for index, (family, points) in enumerate(families.items()):
        colour, dash = STYLES[index % len(STYLES)]
        markers = tuple(
            ChartPoint(px(x), py(y), f"{names.get((family, x), clean if x == 0 else family)}: severity "
                                     f"{_number(x)}, {metric} {y:.4f}")
            for x, y in points)
        failed = tuple(
            ChartPoint(px(x), plot_bottom, f"{names.get((family, x), clean if x == 0 else family)}: severity "
                                           f"{_number(x)}, failed")
            for x in missing[family])
        series.append(ChartSeries(family=family, colour=colour, dash=dash,
                                  points=" ".join(f"{m.x},{m.y}" for m in markers), markers=markers,
                                  failed=failed, legend_y=TOP + 8 + 20 * index))
    severities = sorted(set(xs) | {0.0})
    x_ticks = tuple(Tick(px(x), _number(x)) for x in severities)
    y_ticks = tuple(Tick(py(y_low + (y_high - y_low) * i / (TICKS - 1)),
                         _number(y_low + (y_high - y_low) * i / (TICKS - 1))) for i in range(TICKS))
    description = "; ".join(
        f"{family}: " + ", ".join(f"severity {_number(x)} " + (f"{metric} {y:.4f}" if y is not None
                                                               and math.isfinite(y) else "failed")
                                  for x, y in every[family])
        for family in families)
    return RobustnessChart(width=WIDTH, height=HEIGHT, left=LEFT, right=plot_right, top=TOP, bottom=plot_bottom,
                           series=tuple(series), x_ticks=x_ticks, y_ticks=y_ticks, description=description)
