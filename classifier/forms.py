"""Forms of the pages."""
from django import forms

from .models import Analysis


class AnalyseForm(forms.Form):
    """One clip to analyse: an uploaded file or a recording made in the page (sent as WAV)."""
    file = forms.FileField(label="Audio file", error_messages={
        "required": "Choose an audio file to analyse.",
        "empty": "The file is empty.",
    })
    source = forms.ChoiceField(choices=[(Analysis.Source.UPLOAD, "Upload"),
                                        (Analysis.Source.RECORD, "Recording")],
                               initial=Analysis.Source.UPLOAD, required=False)
    keep = forms.BooleanField(label="Keep this recording", required=False)
    adapt = forms.BooleanField(label="Adapt to my voice", required=False)

    def clean_source(self):
        return self.cleaned_data.get("source") or Analysis.Source.UPLOAD


class TokenForm(forms.Form):
    """A name for a new personal API token."""
    name = forms.CharField(label="Token name", max_length=64, initial="my script")


class DeleteAccountForm(forms.Form):
    """Deleting an account needs its password."""
    password = forms.CharField(label="Your password", widget=forms.PasswordInput,
                               strip=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
