"""The robustness protocol in forms: a JSON text area, pretty-printed, empty meaning no protocol."""

from __future__ import annotations

import json

from django import forms
from django.utils.html import format_html

from arena.challenges.robustness import MAX_CONDITIONS
from sandboxes.corruptions.spec import NOISE_SOURCES

EXAMPLE = {
    "conditions": [
        {"name": "clean", "condition": "clean"},
        {"name": "snr10", "condition": "noise:white@10db"},
        {"name": "snr0", "condition": "noise:white@0db"},
        {"name": "blur4", "condition": "blur:4"},
        {"name": "snr0+blur4", "condition": "noise:white@0db+blur:4"},
    ],
    "seed": 2024,
    "summary": "mean",
    "on_failure": "condition",
}
KINDS = (
    f"noise:SOURCE@SNRdb (SOURCE one of {', '.join(NOISE_SOURCES)}; bank draws from the track's .wav assets, "
    "babble from other test clips), blur:RATE (MER blur, 1, 2, 4, 8, ...), gauss:SIGMA, jpeg:QUALITY (1-100), "
    "occlude:FRACTION (0-1], drop:PROBABILITY [0-1), mute, blank; join steps with + (e.g. noise:white@0db+blur:2)"
)
HELP_TEXT = format_html(
    "Empty: no protocol (models see the clean inputs). Otherwise models run once per condition on corrupted "
    "copies of the container inputs (file-only tracks: a condition map says each key's condition), at most {} "
    "conditions. \"summary\": mean, worst or auc; \"on_failure\": condition (a failed run scores the scale's worst "
    "value) or submission (the entry fails). Corruptions: {}. Example:<pre>{}</pre>",
    MAX_CONDITIONS, KINDS, json.dumps(EXAMPLE, indent=2),
)


class ProtocolField(forms.JSONField):
    """A protocol as JSON, shown indented; blank is ``{}`` (no protocol). ``Phase.clean`` checks it."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 80, "style": "font-family: monospace"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", HELP_TEXT)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return {}
        return super().to_python(value)

    def prepare_value(self, value):
        if value in ({}, None, ""):
            return ""
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)
