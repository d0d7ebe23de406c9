"""Form fields for a track scorer's declared options and metrics.

The scorer is the rule: each field only parses what the organiser typed into the plain value the
option's own ``convert`` takes, and the scorer's message is shown on the field that holds the bad
value. Options left empty (or at their default) are not stored: the scorer's default applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django import forms

import scorers
from arena.leaderboards.services import metric_greater_is_better
from scorers.base import Option, TrackScorer

#: The track form's field for the scorer option ``name`` is ``option_<name>``.
OPTION_FIELD_PREFIX = "option_"
_LIST_SEPARATORS = re.compile(r"[,\r\n]+")


def scorer_shown(key: str | None) -> TrackScorer:
    """The scorer whose options the track form shows: ``key``'s, else the first of the list (what the
    scorer select shows when nothing is chosen yet)."""
    try:
        return scorers.get_scorer(key or "")
    except scorers.ScorerError:
        return scorers.all_scorers()[0]


def option_field_names(scorer: TrackScorer) -> list[str]:
    return [OPTION_FIELD_PREFIX + option.name for option in scorer.options]


def _as_text(option: Option, value: object) -> str:
    if option.kind == "str_list":
        return ", ".join(str(item) for item in value)  # type: ignore[attr-defined]
    return str(value)


def option_form_field(option: Option, current: object) -> forms.Field:
    """A typed field for ``option`` showing ``current``; every field may be left empty (the default)."""
    help_text = f"{option.help[:1].upper()}{option.help[1:]}."
    label = option.name.replace("_", " ").capitalize()
    if option.kind == "bool":
        return forms.BooleanField(label=label, required=False, initial=bool(current),
                                  help_text=f"{help_text} Default: {'on' if option.default else 'off'}.")
    help_text += f" Default: {_as_text(option, option.default)}."
    if option.kind == "choice":
        return forms.ChoiceField(label=label, required=False, initial=current, help_text=help_text,
                                 choices=[(choice, choice) for choice in option.choices])
    common = {"label": label, "required": False, "initial": _as_text(option, current)}
    if option.kind == "str_list":
        return forms.CharField(**common, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=f"{help_text} Separate the items with commas or new lines.")
    if option.kind in ("int", "float"):
        attrs: dict[str, object] = {"step": 1 if option.kind == "int" else "any"}
        if option.minimum is not None:
            attrs["min"] = option.minimum
        # Text parsed by the scorer, so a bad number gets the scorer's own message.
        return forms.CharField(**common, widget=forms.NumberInput(attrs=attrs), help_text=help_text)
    return forms.CharField(**common, help_text=help_text)


def option_fields(scorer: TrackScorer, stored: Mapping[str, object] | None) -> dict[str, forms.Field]:
    """The fields of ``scorer``'s options, showing the ``stored`` values (where valid) or the defaults."""
    stored = stored if isinstance(stored, Mapping) else {}
    fields = {}
    for option in scorer.options:
        current = option.default
        if option.name in stored:
            try:
                current = option.convert(stored[option.name])
            except scorers.OptionError:
                pass  # shown at its default; the organiser sees the field and saves a valid value
        fields[OPTION_FIELD_PREFIX + option.name] = option_form_field(option, current)
    return fields


def option_raw_value(option: Option, cleaned: object) -> object:
    """What the organiser typed as the value ``option.convert`` reads; None when left empty."""
    if option.kind == "bool":
        return bool(cleaned)
    if option.kind == "str_list":
        items = [item.strip() for item in _LIST_SEPARATORS.split(str(cleaned or ""))]
        return [item for item in items if item] or None
    text = str(cleaned or "").strip()
    return text or None


def options_from_fields(scorer: TrackScorer, cleaned_data: Mapping[str, object]) -> tuple[dict, dict[str, str]]:
    """The options to store (those that differ from the scorer's defaults, as JSON values) and the
    scorer's message for each field it refused."""
    options: dict[str, object] = {}
    errors: dict[str, str] = {}
    for option in scorer.options:
        name = OPTION_FIELD_PREFIX + option.name
        if name not in cleaned_data:
            continue  # the field refused the input already
        raw = option_raw_value(option, cleaned_data[name])
        if raw is None:
            continue
        try:
            value = option.convert(raw)
        except scorers.OptionError as exc:
            errors[name] = str(exc)
            continue
        if option.kind == "str_list":
            value, default = list(value), list(option.default)  # type: ignore[call-overload]
        else:
            default = option.default
        if value != default:
            options[option.name] = value
    return options, errors


def option_posted_defaults(scorer: TrackScorer) -> dict[str, object]:
    """The scorer's defaults as a browser would post them (an unticked box is not posted at all)."""
    return {OPTION_FIELD_PREFIX + o.name: _as_text(o, o.default) for o in scorer.options
            if o.kind != "bool" or o.default}


def direction_label(scorer: TrackScorer, metric: str) -> str:
    return f"{metric} ({'higher' if metric_greater_is_better(scorer, metric) else 'lower'} is better)"


def tie_break_choices(scorer: TrackScorer, current: Sequence[str]) -> list[tuple[str, str]]:
    """The scorer's metrics other than the primary one, labelled with their direction: the chosen ones
    first in their order (the order in which they break ties), then the others."""
    names = [m for m in scorer.metric_names if m != scorer.primary_metric]
    chosen = [m for m in current if m in names]
    return [(m, direction_label(scorer, m)) for m in chosen + [m for m in names if m not in chosen]]
