from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

import scorers
from arena.challenges import scorer_fields
from arena.challenges.models import Challenge, Phase, Track
from arena.challenges.protocol_fields import ProtocolField
from arena.challenges.readiness import Readiness, challenge_readiness, not_ready_message, phase_readiness
from arena.challenges.services import phase_validate_files, track_validate_assets, track_validate_scorer_config
from arena.core.errors import DomainError


def publish_anyway_field(label: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=label, required=False,
        help_text="Needed while the readiness check finds problems; the override is recorded in the audit log.",
    )


class ReadinessOverrideMixin:
    """Refuses a change that lets teams in (publishing, opening a phase) while the readiness check finds
    problems, unless ``publish_anyway`` is ticked. ``readiness`` holds the check made for the change."""

    readiness: Readiness | None = None

    def _check_readiness(self, compute) -> None:
        self.readiness = compute()
        if not self.readiness.ready and not self.cleaned_data.get("publish_anyway"):
            self.add_error("publish_anyway", not_ready_message(self.readiness))


class TrackAdminForm(forms.ModelForm):
    """Choose the scorer from the registry, then its own options as typed fields and its metrics as
    tie-breaks. The options shown are the chosen scorer's (the one posted, else the stored one); when
    the organiser picks another scorer, the form comes back once with the new scorer's options at their
    defaults, to be checked and saved. The stored options are what ``track_validate_scorer_config``
    returns for the options the fields give."""

    scorer_key = forms.ChoiceField(label="Scorer", choices=())
    tie_break_metrics = forms.MultipleChoiceField(
        label="Tie-break metrics", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Compared in this order when primary scores are equal.",
    )
    #: The scorer whose options the page showed: when the posted scorer differs, its options were not seen.
    options_shown_for = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Track
        exclude = ("scorer_options",)  # built from the option fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scorer_key"].choices = scorers.scorer_choices()
        self.fields["scorer_key"].help_text = ("The official metric that scores this track. After choosing "
                                               "another, save: its options then appear below.")
        self.stored_options = dict(self.instance.scorer_options or {}) if self.instance.pk else {}
        if self.is_bound:
            key = self.data.get(self.add_prefix("scorer_key"))
        else:
            key = self.initial.get("scorer_key") or self.instance.scorer_key
        self.scorer = scorer_fields.scorer_shown(key)
        shown_for = self.data.get(self.add_prefix("options_shown_for")) if self.is_bound else None
        self.scorer_switched = bool(shown_for) and key == self.scorer.key and shown_for != key
        if self.scorer_switched:
            self._show_defaults_of_new_scorer()
        stored = self.stored_options if self.scorer.key == self.instance.scorer_key else {}
        self.fields.update(scorer_fields.option_fields(self.scorer, stored))
        tie_breaks = self._posted_list("tie_break_metrics") if self.is_bound else \
            self.initial.get("tie_break_metrics") or []
        self.fields["tie_break_metrics"].choices = scorer_fields.tie_break_choices(self.scorer, tie_breaks)
        self.fields["options_shown_for"].initial = self.scorer.key

    def _posted_list(self, name: str) -> list[str]:
        name = self.add_prefix(name)
        return self.data.getlist(name) if hasattr(self.data, "getlist") else list(self.data.get(name) or [])

    def _show_defaults_of_new_scorer(self) -> None:
        """Post data as if the page had shown the new scorer's options at their defaults."""
        tie_breaks = [m for m in self._posted_list("tie_break_metrics") if m in self.scorer.metric_names]
        data = self.data.copy()
        for name in [n for n in data if n.startswith(self.add_prefix(scorer_fields.OPTION_FIELD_PREFIX))]:
            del data[name]
        for name, value in scorer_fields.option_posted_defaults(self.scorer).items():
            data[self.add_prefix(name)] = value
        if hasattr(data, "setlist"):
            data.setlist(self.add_prefix("tie_break_metrics"), tie_breaks)
        else:
            data[self.add_prefix("tie_break_metrics")] = tie_breaks
        data[self.add_prefix("options_shown_for")] = self.scorer.key
        self.data = data

    def clean(self):
        data = super().clean()
        if "scorer_key" not in data:
            return data
        if self.scorer_switched:
            self.add_error("scorer_key", f"The options of {self.scorer.key} are now shown below at their "
                                         "defaults: check them, then save again.")
            return data
        options, errors = scorer_fields.options_from_fields(self.scorer, data)
        for name, message in errors.items():
            self.add_error(name, message)
        if errors or "tie_break_metrics" not in data:
            return data
        try:
            data["scorer_options"] = track_validate_scorer_config(
                scorer_key=data["scorer_key"], scorer_options=options,
                tie_break_metrics=list(data["tie_break_metrics"]),
            )
        except DomainError as exc:
            field = exc.details.get("field")
            self.add_error(field if field in self.fields else None, exc.message)
        return data

    @property
    def changed_data(self) -> list[str]:
        """The model fields changed: ``scorer_options`` stands for the option fields."""
        changed = [name for name in super().changed_data if name != "options_shown_for"
                   and not name.startswith(scorer_fields.OPTION_FIELD_PREFIX)]
        options = getattr(self, "cleaned_data", {}).get("scorer_options")
        if options is not None and options != self.stored_options:
            changed.append("scorer_options")
        return changed

    def save(self, commit: bool = True):
        self.instance.scorer_options = self.cleaned_data["scorer_options"]
        return super().save(commit)


class PhaseAdminForm(ReadinessOverrideMixin, forms.ModelForm):
    """References are parsed with the track's scorer on save, and a candidate list must cover them. Saving
    an open phase of a published challenge that is not ready needs the override."""

    publish_anyway = publish_anyway_field("Open even though not ready")
    robustness_protocol = ProtocolField(label="Robustness protocol")

    class Meta:
        model = Phase
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        phase = self.instance
        if self.errors or phase.track_id is None or phase.opens_at is None:
            return
        if phase.opens_at <= timezone.now() and phase.track.challenge.is_published:
            self._check_readiness(lambda: phase_readiness(phase))

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


class PhaseInlineForm(forms.ModelForm):
    """A phase's row in the track form. A rule of the phase on a field the row does not show (its
    robustness protocol no longer fitting the track's new limits, say) is shown on the row, not lost."""

    class Meta:
        model = Phase
        fields = "__all__"

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            shown = {name: errors for name, errors in error.error_dict.items()
                     if name == NON_FIELD_ERRORS or name in self.fields}
            hidden = [ValidationError(f"{Phase._meta.get_field(name).verbose_name.capitalize()}: {message}")
                      for name, errors in error.error_dict.items() if name not in shown
                      for message in ValidationError(errors).messages]
            if hidden:
                shown[NON_FIELD_ERRORS] = [*shown.get(NON_FIELD_ERRORS, []), *hidden]
                error = ValidationError(shown)
        super().add_error(field, error)


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


class ChallengeAdminForm(ReadinessOverrideMixin, forms.ModelForm):
    add_organiser = AccountByLoginField(
        label="Add a co-organiser by exact username or e-mail", required=False, max_length=254,
        help_text="They can then manage this challenge in the organiser admin.",
    )
    publish_anyway = publish_anyway_field("Publish even though not ready")

    class Meta:
        model = Challenge
        fields = "__all__"

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values (e.g. new dates)
        if not self.errors and self.cleaned_data.get("is_published") and "is_published" in self.changed_data:
            self._check_readiness(lambda: challenge_readiness(self.instance))
            # A refused form is shown again with this check: the admin's readiness panel reuses it.
            self.instance.checked_readiness = self.readiness


class ChallengeCloneForm(forms.Form):
    slug = forms.SlugField(max_length=80, label="Slug of the new edition", help_text="Its address: /c/<slug>/.")
    title = forms.CharField(max_length=200, label="Title of the new edition")
    offset_days = forms.IntegerField(
        label="Shift the dates by (days)", min_value=-3650, max_value=3650,
        help_text="Added to every date of the challenge and of its phases (e.g. 365 for next year's edition).",
    )


class TrackAssetFormSet(forms.BaseInlineFormSet):
    """A track's asset files are checked as a whole with the track's scorer when they change."""

    def clean(self):
        super().clean()
        if any(self.errors) or not self.has_changed():
            return
        files = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("file") or not data.get("path"):
                continue
            files[data["path"]] = data["file"]
        try:
            track_validate_assets(track=self.instance, files=files)
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from None
