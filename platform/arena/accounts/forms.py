from django import forms
from django.contrib.auth.forms import UserCreationForm

from arena.accounts.models import HostingRequest, User


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used for password resets and scoring notices.")
    affiliation = forms.CharField(required=False, max_length=200, help_text="University, lab or company.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "affiliation")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail already exists; sign in, or reset your password."
            )
        return email


class HostingRequestForm(forms.ModelForm):
    class Meta:
        model = HostingRequest
        fields = ("affiliation", "challenge_name", "reason")
        labels = {"challenge_name": "Challenge you mean to host", "reason": "About you and the challenge"}
        help_texts = {
            "affiliation": "University, lab or company.",
            "reason": "Your role, the challenge's data and its venue (workshop, conference): site admins read this.",
        }
