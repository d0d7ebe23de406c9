"""Official MER and ABAW metrics, strict file parsing and track scorers; no Django.

Usage: ``get_scorer("abaw.va").score(gold=path, pred=path)``, or ``python -m scorers``.
"""

from scorers.base import Option, ScoreResult, TrackScorer
from scorers.errors import AssetError, OptionError, ScorerError, SubmissionFormatError
from scorers.registry import all_scorers, get_scorer, register, scorer_choices

__all__ = [
    "AssetError",
    "Option",
    "OptionError",
    "ScoreResult",
    "ScorerError",
    "SubmissionFormatError",
    "TrackScorer",
    "all_scorers",
    "get_scorer",
    "register",
    "scorer_choices",
]
