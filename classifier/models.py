"""The history of analyses (one row per analysed clip, its result and its plots, owned by an
account or a visitor), read-only share links to them and personal API tokens."""
import uuid

from django.conf import settings
from django.db import models

from .owners import Owned


class Analysis(Owned):
    """One analysed recording. The audio file is kept only when the user asked for it.

    `uid` is the public identifier (URLs, API, CSV); the integer pk never leaves the server.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        RECORD = "record", "Recording"
        API = "api", "API"
        LIVE = "live", "Live mode"
        SERVER_MIC = "server-mic", "Server microphone"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    filename = models.CharField(max_length=255, blank=True)
    emotion = models.CharField(max_length=32)
    confidence = models.FloatField()
    probabilities = models.JSONField()
    gender = models.CharField(max_length=16)
    gender_confidence = models.FloatField()
    duration_s = models.FloatField()
    processing_ms = models.FloatField()
    uncertain = models.BooleanField(default=False)   # top probability under the model's threshold
    top_two = models.JSONField(default=list, blank=True)  # the two most likely emotions
    # {"source", "profile", "clips", "seconds"} when adapted to a speaker (ml.speaker), else null
    adaptation = models.JSONField(null=True, blank=True)
    segments = models.JSONField(default=list, blank=True)
    plot_data = models.BinaryField(default=b"", blank=True)    # ml.audio_plots.plot_data
    waveform_png = models.BinaryField(default=b"", blank=True)   # drawn on first view
    spectrogram_png = models.BinaryField(default=b"", blank=True)
    audio = models.FileField(upload_to="recordings/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.emotion} ({self.source})"

    def sorted_probabilities(self):
        """[(emotion, probability)] most likely first."""
        return sorted(self.probabilities.items(), key=lambda item: -item[1])

    def top_two_probabilities(self):
        """[(emotion, probability)] of the two most likely emotions (what an uncertain answer
        shows)."""
        return self.sorted_probabilities()[:2]

    def result(self):
        """The API/`predict --json` object for this analysis, with its public id (None when
        it was not stored) and any segments."""
        data = {"id": str(self.uid) if self.pk else None, "emotion": self.emotion, "confidence": self.confidence,
                "probabilities": self.probabilities, "gender": self.gender,
                "gender_confidence": self.gender_confidence, "duration_s": self.duration_s,
                "processing_ms": self.processing_ms, "uncertain": self.uncertain,
                "top_two": self.top_two or [e for e, _ in self.sorted_probabilities()[:2]],
                "adaptation": self.adaptation}
        if self.segments:
            data["segments"] = self.segments
        return data

    def delete(self, *args, **kwargs):
        """Delete the row and its kept audio file."""
        if self.audio:
            self.audio.delete(save=False)
        return super().delete(*args, **kwargs)


class ShareLink(models.Model):
    """A read-only link to one analysis, made on purpose by its owner (revoked by deleting it).

    The audio is reachable through the link only when `with_audio` was ticked.
    """
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="shares")
    token = models.CharField(max_length=43, unique=True)
    with_audio = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiToken(models.Model):
    """A personal API token of an account. Only the SHA-256 digest of the secret is stored;
    the first characters (`prefix`) let the owner tell tokens apart."""
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class VoiceProfile(Owned):
    """What the model knows of one speaker's voice: feature statistics (ml.speaker.SpeakerStats
    as a dict: means and spreads of feature vectors, never audio), how many clips and seconds of
    speech they came from, and whether later analyses may add to them."""
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=64, default="My voice")
    stats = models.JSONField(default=dict, blank=True)
    clips = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    learn = models.BooleanField(default=False)   # add the owner's later analyses
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.clips} clips)"
