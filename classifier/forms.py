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

    def clean_source(self):
        return self.cleaned_data.get("source") or Analysis.Source.UPLOAD
