"""Emotion wheels: loading a wheel folder, mapping open-vocabulary labels onto wheel categories,
and scoring label lists as the MER organisers do."""

from scorers.wheel.assets import LEVELS, WHEEL_NAMES, Wheel, WheelSet, load_wheel_set
from scorers.wheel.cells import parse_label_cell, split_list_cell
from scorers.wheel.mapping import LabelMap, build_label_map
from scorers.wheel.scoring import (
    LabelLists,
    WheelScores,
    label_explanations,
    sample_explanations,
    score_label_lists,
)

__all__ = [
    "LEVELS",
    "WHEEL_NAMES",
    "LabelLists",
    "LabelMap",
    "Wheel",
    "WheelScores",
    "WheelSet",
    "build_label_map",
    "label_explanations",
    "load_wheel_set",
    "parse_label_cell",
    "sample_explanations",
    "score_label_lists",
    "split_list_cell",
]
