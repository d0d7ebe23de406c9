from django import forms

from arena.datasets.models import DatasetFileKind


class RegisterStoredFileForm(forms.Form):
    """Attach an object that is already in storage (e.g. uploaded with a multipart S3 client)."""

    key = forms.CharField(
        max_length=500, label="Storage key",
        help_text="The object's key in the bucket (or under the media folder), starting with "
                  "<code>datasets/</code>. Its size and SHA-256 are computed by reading it once.",
    )
    name = forms.CharField(max_length=200, required=False,
                           help_text="Shown to participants; defaults to the key's file name.")
    kind = forms.ChoiceField(choices=DatasetFileKind.choices)
    hidden_from_participants = forms.BooleanField(
        required=False, help_text="Hidden test inputs of container tracks: only the sandbox reads them.",
    )
    release_at = forms.DateTimeField(
        required=False, label="Release at",
        help_text="Participants see and download the file from this time on (UTC, e.g. 2026-06-01 12:00). "
                  "Empty: released at once.",
    )


class UploadTicketForm(forms.Form):
    filename = forms.CharField(max_length=255)
