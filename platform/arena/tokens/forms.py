from datetime import timedelta

from django import forms
from django.utils import timezone

EXPIRY_CHOICES = [("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"), ("never", "Never")]


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where you use it, e.g. 'laptop' or 'lab server'.")
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label="Expires")

    def expires_at(self):
        """The expiry the person chose, as a time (None: never)."""
        choice = self.cleaned_data["expires"]
        return None if choice == "never" else timezone.now() + timedelta(days=int(choice))
