"""The track admin form: the chosen scorer's declared options as typed fields, its metrics as tie-breaks."""

import pytest
from django import forms
from django.urls import reverse

from arena.audit.models import AuditEntry
from arena.challenges.models import Track
from arena.challenges.services import track_validate_scorer_config
from tests.platform.factories import ChallengeFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return UserFactory(username="organiser")


def _track(organiser, scorer_key: str, **fields) -> Track:
    return TrackFactory(challenge=ChallengeFactory(organisers=[organiser]), scorer_key=scorer_key, **fields)


def _url(track: Track) -> str:
    return reverse("admin:challenges_track_change", args=[track.pk])


def _form(response):
    return response.context["adminform"].form


def _post_data(response, **changes) -> dict:
    """What the browser posts for the page in ``response`` unchanged, with ``changes`` applied (None: not posted,
    as an unticked box)."""
    bound_forms = [_form(response)]
    for inline in response.context["inline_admin_formsets"]:
        bound_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in bound_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[field.html_name] = [str(v) for v in value]
            elif value is not None:
                data[field.html_name] = str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _save(client, track: Track, **changes):
    page = client.get(_url(track))
    return client.post(_url(track), _post_data(page, **changes))


def test_ov_wheel_shows_level_as_a_choice_with_the_scorers_choices_and_default(client, organiser):
    track = _track(organiser, "mer.ov-wheel")
    client.force_login(organiser)
    response = client.get(_url(track))
    form = _form(response)
    level = form.fields["option_level"]
    assert isinstance(level, forms.ChoiceField)
    assert list(level.choices) == [("level1", "level1"), ("level2", "level2")]
    assert form["option_level"].value() == "level1"
    assert level.help_text == "Wheel ring the labels are compared at: level1 (inner) or level2. Default: level1."
    assert isinstance(form.fields["option_explain"], forms.BooleanField)
    assert form["option_explain"].value() is False
    assert isinstance(form.fields["option_bootstrap"].widget, forms.NumberInput)
    assert form.fields["option_bootstrap"].widget.attrs == {"step": 1, "min": 0}
    assert form["option_bootstrap"].value() == "0"
    assert "scorer_options" not in form.fields
    assert sorted(n for n in form.fields if n.startswith("option_")) == [
        "option_bootstrap", "option_expected_rows", "option_explain", "option_lemmatize_unknown", "option_level",
        "option_seed"]
    page = response.content.decode()
    assert 'name="option_level"' in page and '<option value="level1" selected>level1</option>' in page
    assert 'name="option_labels"' not in page


def test_a_labels_option_is_a_list_field_showing_the_stored_list(client, organiser):
    track = _track(organiser, "mer.multi", scorer_options={"labels": ["calm", "angry", "happy"]})
    client.force_login(organiser)
    form = _form(client.get(_url(track)))
    labels = form.fields["option_labels"]
    assert isinstance(labels, forms.CharField) and isinstance(labels.widget, forms.Textarea)
    assert form["option_labels"].value() == "calm, angry, happy"
    assert labels.help_text == ("The emotion labels of the track, comma-separated. Default: neutral, angry, happy, "
                                "sad, worried, surprise. Separate the items with commas or new lines.")
    assert form.fields["option_mse_weight"].widget.attrs == {"step": "any", "min": 0.0}
    assert form["option_mse_weight"].value() == "0.25"


def test_saving_typed_values_stores_exactly_what_the_service_returns(client, organiser):
    track = _track(organiser, "mer.multi")
    client.force_login(organiser)
    response = _save(client, track, option_labels="calm\nangry, happy\n", option_mse_weight="0.5",
                     option_bootstrap="200", option_seed="0", tie_break_metrics=["mse", "waf"])
    assert response.status_code == 302, _form(response).errors if response.context else response
    track.refresh_from_db()
    expected = {"labels": ["calm", "angry", "happy"], "mse_weight": 0.5, "bootstrap": 200}
    assert track.scorer_options == expected
    assert track.scorer_options == track_validate_scorer_config(
        scorer_key="mer.multi", scorer_options=expected, tie_break_metrics=["mse", "waf"])
    assert track.tie_break_metrics == ["mse", "waf"]  # in the order posted: mse breaks ties first
    entry = AuditEntry.objects.get(action="admin.change.track")
    assert entry.details == {"fields": ["scorer_options", "tie_break_metrics"]}

    # Shown again as stored, and saved unchanged it stays exactly so (and nothing is audited).
    page = client.get(_url(track))
    assert _form(page)["option_labels"].value() == "calm, angry, happy"
    assert [c for c, _ in _form(page).fields["tie_break_metrics"].choices] == ["mse", "waf", "accuracy"]
    assert client.post(_url(track), _post_data(page)).status_code == 302
    track.refresh_from_db()
    assert (track.scorer_options, track.tie_break_metrics) == (expected, ["mse", "waf"])
    assert AuditEntry.objects.filter(action="admin.change.track").count() == 1


def test_a_choice_and_a_checkbox_are_stored_typed_and_defaults_are_not_stored(client, organiser):
    track = _track(organiser, "mer.ov-wheel", scorer_options={"level": "level2", "bootstrap": 10})
    client.force_login(organiser)
    response = _save(client, track, option_explain="on", option_bootstrap="0")
    assert response.status_code == 302
    track.refresh_from_db()
    assert track.scorer_options == {"level": "level2", "explain": True}
    response = _save(client, track, option_level="level1", option_explain=None)
    assert response.status_code == 302
    track.refresh_from_db()
    assert track.scorer_options == {}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("option_bootstrap", "-1", "option 'bootstrap' must be an integer >= 0, got '-1'"),
    ("option_seed", "1.5", "option 'seed' must be an integer, got '1.5'"),
    ("option_mse_weight", "nan", "option 'mse_weight' must be a number >= 0.0, got 'nan'"),
    ("option_labels", "happy, sad, happy", "option 'labels' must be a comma-separated list, got "
                                           "['happy', 'sad', 'happy']"),
])
def test_a_bad_value_gets_the_scorers_message_on_its_field_and_nothing_changes(client, organiser, field, value,
                                                                                 message):
    track = _track(organiser, "mer.multi", scorer_options={"mse_weight": 0.5}, tie_break_metrics=["mse"])
    client.force_login(organiser)
    response = _save(client, track, **{field: value, "title": "Renamed"})
    assert response.status_code == 200
    assert _form(response).errors == {field: [message]}
    track.refresh_from_db()
    assert track.title != "Renamed"
    assert (track.scorer_options, track.tie_break_metrics) == ({"mse_weight": 0.5}, ["mse"])
    assert not AuditEntry.objects.filter(action="admin.change.track").exists()


def test_tie_break_choices_are_the_scorers_metrics_with_their_direction(client, organiser):
    track = _track(organiser, "mer.multi", tie_break_metrics=["accuracy", "mse"])
    client.force_login(organiser)
    page = client.get(_url(track))
    field = _form(page).fields["tie_break_metrics"]
    assert isinstance(field, forms.MultipleChoiceField)
    assert list(field.choices) == [  # the chosen ones first, in their order; the primary metric is no tie-break
        ("accuracy", "accuracy (higher is better)"), ("mse", "mse (lower is better)"),
        ("waf", "waf (higher is better)")]
    assert _form(page)["tie_break_metrics"].value() == ["accuracy", "mse"]
    response = client.post(_url(track), _post_data(page, tie_break_metrics=["mse", "nope"]))
    assert response.status_code == 200
    assert _form(response).errors == {
        "tie_break_metrics": ["Select a valid choice. nope is not one of the available choices."]}
    track.refresh_from_db()
    assert track.tie_break_metrics == ["accuracy", "mse"]


def test_another_scorer_shows_its_options_at_their_defaults_before_anything_is_saved(client, organiser):
    track = _track(organiser, "mer.multi", scorer_options={"mse_weight": 0.5, "seed": 7},
                   tie_break_metrics=["mse"])
    client.force_login(organiser)
    page = client.get(_url(track))
    response = client.post(_url(track), _post_data(page, scorer_key="mer.ov-wheel"))
    assert response.status_code == 200
    form = _form(response)
    assert form.errors == {"scorer_key": ["The options of mer.ov-wheel are now shown below at their defaults: "
                                          "check them, then save again."]}
    assert (form["option_level"].value(), form["option_seed"].value()) == ("level1", "0")
    assert "option_mse_weight" not in form.fields
    assert form["tie_break_metrics"].value() == []  # mse is no metric of the wheel scorer
    track.refresh_from_db()
    assert (track.scorer_key, track.scorer_options) == ("mer.multi", {"mse_weight": 0.5, "seed": 7})

    response = client.post(_url(track), _post_data(response, option_level="level2"))
    assert response.status_code == 302
    track.refresh_from_db()
    assert (track.scorer_key, track.scorer_options, track.tie_break_metrics) == (
        "mer.ov-wheel", {"level": "level2"}, [])


def test_the_add_page_shows_the_options_of_the_scorer_in_its_address(client, organiser):
    challenge = ChallengeFactory(organisers=[organiser])
    client.force_login(organiser)
    page = client.get(reverse("admin:challenges_track_add") + "?scorer_key=mer.ov-wheel")
    assert _form(page)["option_level"].value() == "level1"
    data = _post_data(page, challenge=str(challenge.pk), title="Wheel", slug="wheel", option_level="level2",
                      tie_break_metrics=["recall"])
    response = client.post(reverse("admin:challenges_track_add"), data)
    assert response.status_code == 302, _form(response).errors
    track = Track.objects.get(slug="wheel")
    assert (track.scorer_key, track.scorer_options, track.tie_break_metrics) == (
        "mer.ov-wheel", {"level": "level2"}, ["recall"])
