"""ABAW compound expression recognition."""

from __future__ import annotations

from scorers.registry import register
from scorers.tracks.abaw.affwild import ClassIndexTrack

COMPOUND_EXPRESSIONS = (
    "Fearfully_Surprised",
    "Happily_Surprised",
    "Sadly_Surprised",
    "Disgustedly_Surprised",
    "Angrily_Surprised",
    "Sadly_Fearful",
    "Sadly_Angry",
)


@register
class AbawCe(ClassIndexTrack):
    key = "abaw.ce"
    title = "ABAW compound expression recognition (macro F1, 7 classes)"
    description = (
        "Each frame is given one of seven compound expressions, written as its index 0-6 in the "
        "order of the header. The score is the macro F1: the plain mean of the seven per-class "
        "F1 scores, a class absent from both reference and prediction counting 0. Write exactly "
        "one row per test frame, in any order."
    )
    primary_metric = "macro_f1"
    worst_score = 0.0
    metric_names = ("macro_f1",)
    key_column = "image_location"
    classes = COMPOUND_EXPRESSIONS
    value_column = "compound_expression"
    pred_header = ("image_location", *COMPOUND_EXPRESSIONS)
    gold_header = pred_header
    pred_format = (
        "CSV with header image_location,Fearfully_Surprised,...,Sadly_Angry; each row: image_location,class index 0-6"
    )
