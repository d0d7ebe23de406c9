from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

import scorers
from arena.challenges.models import Challenge, Phase, Track
from arena.challenges.services import phase_validate_files, track_validate_scorer_config
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


class PhaseAdminForm(forms.ModelForm):
    """References are parsed with the track's scorer on save, and a candidate list must cover them."""

    class Meta:
        model = Phase
        fields = "__all__"

    def clean(self):
        data = super().clean()
        track = data.get("track") or getattr(self.instance, "track", None)
        if track is None or self.errors:
            return data
        try:
            phase_validate_files(track=track, reference_public=data.get("reference_public"),
                                 reference_private=data.get("reference_private"), candidates=data.get("candidates"))
        except DomainError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        return data


class AccountByLoginField(forms.CharField):
    """An active account named by its exact username or e-mail address; never a list to pick from."""

    default_error_messages = {
        "unknown": "There is no account with that exact username or e-mail; check it with the person.",
    }

    def clean(self, value):
        login = (super().clean(value) or "").strip()
        if not login:
            return None
        accounts = get_user_model()._default_manager.filter(is_active=True)
        user = accounts.filter(username=login).first() or accounts.filter(email__iexact=login).first()
        if user is None:
            raise ValidationError(self.error_messages["unknown"], code="unknown")
        return user


class ChallengeAdminForm(forms.ModelForm):
    add_organiser = AccountByLoginField(
        label="Add a co-organiser by exact username or e-mail", required=False, max_length=254,
        help_text="They can then manage this challenge in the organiser admin.",
    )

    class Meta:
        model = Challenge
        fields = "__all__"
