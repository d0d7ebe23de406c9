from django import forms

import scorers
from arena.challenges.models import Track
from arena.challenges.services import track_validate_scorer_config
from arena.core.errors import DomainError


class TrackAdminForm(forms.ModelForm):
    """Choose the scorer from the registry; options and tie-breaks are validated against it."""

    scorer_key = forms.ChoiceField(label="Scorer", choices=())

    class Meta:
        model = Track
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scorer_key"].choices = scorers.scorer_choices()
        self.fields["scorer_key"].help_text = "The official metric that scores this track."
        self.fields["scorer_options"].help_text = "\n".join(
            f"{s.key}: " + (", ".join(f"{o.name} (default {o.default!r})" for o in s.options) or "no options")
            for s in scorers.all_scorers()
        )

    def clean(self):
        data = super().clean()
        if "scorer_key" not in data:
            return data
        try:
            data["scorer_options"] = track_validate_scorer_config(
                scorer_key=data["scorer_key"],
                scorer_options=data.get("scorer_options"),
                tie_break_metrics=data.get("tie_break_metrics") or [],
            )
        except DomainError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        return data
