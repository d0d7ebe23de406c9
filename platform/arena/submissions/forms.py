from django import forms

from arena.factsheets.models import QuestionKind


class FactSheetForm(forms.Form):
    """A submission form that also asks the phase's fact-sheet questions (fields ``answer_<key>``)."""

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"answer_{question.key}"] = _question_field(question)

    def answers(self) -> dict[str, str]:
        """The answers given, by question key (checked by the intake)."""
        return {q.key: self.cleaned_data.get(f"answer_{q.key}") or "" for q in self.questions}


def _question_field(question) -> forms.Field:
    # Every field is optional here: the intake says which answer is missing, in the same words as the API.
    common = {"label": question.text, "help_text": question.help, "required": False}
    if question.kind == QuestionKind.YES_NO:
        return forms.ChoiceField(choices=[("", "—"), ("yes", "Yes"), ("no", "No")], **common)
    if question.kind == QuestionKind.CHOICE:
        return forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in question.choice_list], **common)
    if question.kind == QuestionKind.URL:
        return forms.CharField(max_length=2000, **common)
    return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **common)


class SubmissionForm(FactSheetForm):
    file = forms.FileField(
        label="Prediction file", help_text="CSV in the track's format; .gz or .zip if the track allows."
    )
    method_name = forms.CharField(max_length=100, label="Method name", help_text="Shown on the leaderboard.")
    method_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                         label="Description")
    paper_url = forms.URLField(required=False, label="Paper URL")
    code_url = forms.URLField(required=False, label="Code URL")


class ContainerSubmissionForm(FactSheetForm):
    image_archive = forms.FileField(
        required=False, label="Model image archive",
        help_text="A `docker save` archive (.tar or .tar.gz): docker save my-model | gzip > model.tar.gz",
    )
    image_reference = forms.CharField(
        required=False, max_length=300, label="…or an image reference",
        help_text="Only images on the track's allowed registries can be pulled.",
    )
    method_name = forms.CharField(max_length=100, label="Method name", help_text="Shown on the leaderboard.")
    method_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                         label="Description")
    paper_url = forms.URLField(required=False, label="Paper URL")
    code_url = forms.URLField(required=False, label="Code URL")


class BaselineForm(forms.Form):
    """An organisers' baseline for a phase (see ``arena.submissions.services.baselines``)."""

    method_name = forms.CharField(max_length=100, label="Baseline name",
                                  help_text="Shown on the leaderboard, marked as a baseline and unranked.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Description")
    file = forms.FileField(label="Prediction file",
                           help_text="Checked and scored exactly like a team's upload; .gz or .zip if the track "
                                     "allows.")
