from django import forms
from django.utils import timezone


class LicenceAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Full name")
    affiliation = forms.CharField(max_length=200, label="Affiliation",
                                  help_text="University, lab or company you represent.")
    accepted_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text="Today's date.")
    confirm = forms.BooleanField(label="I have read the licence and accept it on behalf of my team.")

    def __init__(self, *args, user=None, **kwargs):
        kwargs.setdefault("initial", {
            "full_name": user.get_full_name() if user else "",
            "affiliation": getattr(user, "affiliation", ""),
            "accepted_on": timezone.localdate(),
        })
        super().__init__(*args, **kwargs)


class AgreementUploadForm(forms.Form):
    file = forms.FileField(label="Signed agreement (PDF)",
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
                           help_text="The licence signed by a lab head or faculty member, scanned as one PDF.")
