"""The registry of track scorers, by key.

Track modules register their scorer classes with the ``@register`` class decorator; the registry
imports the fixed list ``TRACK_MODULES`` on first use. A listed module that does not exist is
skipped, so a deployment can leave a track family out.
"""

from __future__ import annotations

import importlib

from scorers.base import TrackScorer
from scorers.errors import OptionError

__all__ = ["register", "get_scorer", "all_scorers", "scorer_choices", "TRACK_MODULES"]

TRACK_MODULES: tuple[str, ...] = (
    "scorers.tracks.mer",
    "scorers.tracks.abaw",
    "scorers.tracks.ov_wheel",
)

_SCORERS: dict[str, TrackScorer] = {}
_loaded = False


def register[T: type[TrackScorer]](cls: T) -> T:
    """Class decorator: instantiate ``cls`` and register it under ``cls.key``.

    Raises ``RuntimeError`` when another class already holds that key, or when the class does not
    declare every attribute of the contract.
    """
    missing = [
        name
        for name in (
            "key",
            "title",
            "description",
            "primary_metric",
            "metric_names",
            "key_column",
            "pred_header",
            "gold_header",
            "pred_format",
        )
        if not hasattr(cls, name)
    ]
    if missing:
        raise RuntimeError(f"{cls.__name__} does not declare {', '.join(missing)}")
    if cls.metric_names[0] != cls.primary_metric:
        raise RuntimeError(f"{cls.__name__}: metric_names must start with the primary metric")
    existing = _SCORERS.get(cls.key)
    if existing is not None and type(existing).__qualname__ != cls.__qualname__:
        raise RuntimeError(f"scorer key {cls.key!r} is registered twice")
    _SCORERS[cls.key] = cls()
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in TRACK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    _loaded = True


def get_scorer(key: str) -> TrackScorer:
    """The scorer registered under ``key``; ``OptionError`` listing the known keys otherwise."""
    _load()
    try:
        return _SCORERS[key]
    except KeyError:
        known = ", ".join(sorted(_SCORERS))
        raise OptionError(f"unknown scorer {key!r}; known: {known}") from None


def all_scorers() -> list[TrackScorer]:
    """Every registered scorer, sorted by key."""
    _load()
    return [_SCORERS[key] for key in sorted(_SCORERS)]


def scorer_choices() -> list[tuple[str, str]]:
    """``(key, "key — title")`` pairs, sorted by key, for a choices field."""
    return [(scorer.key, f"{scorer.key} — {scorer.title}") for scorer in all_scorers()]
