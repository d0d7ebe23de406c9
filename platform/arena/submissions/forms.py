from django import forms


class SubmissionForm(forms.Form):
    file = forms.FileField(
        label="Prediction file", help_text="CSV in the track's format; .gz or .zip if the track allows."
    )
    method_name = forms.CharField(max_length=100, label="Method name", help_text="Shown on the leaderboard.")
    method_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                         label="Description")
    paper_url = forms.URLField(required=False, label="Paper URL")
    code_url = forms.URLField(required=False, label="Code URL")


class DisqualifyForm(forms.Form):
    reason = forms.CharField(max_length=500)
