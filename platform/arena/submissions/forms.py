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


class ContainerSubmissionForm(forms.Form):
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
