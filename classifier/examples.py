"""Example clips on the home page: a few RAVDESS recordings shipped in static/, so a visitor
without a microphone or an audio file can try the site with one click.

RAVDESS (Livingstone & Russo, 2018) is licensed CC BY-NC-SA 4.0; the clips are unchanged except
for being stored as FLAC (lossless) at the shared copy's 16 kHz.
"""
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.templatetags.static import static

from ml.dataset import STATEMENTS, parse_name

EXAMPLES_DIR = "classifier/examples"


@dataclass(frozen=True)
class Example:
    """One shipped clip; slug is its RAVDESS file name without extension."""
    slug: str

    @property
    def clip(self):
        """The fields its RAVDESS name encodes (ml.dataset.Clip: emotion, actor, gender, ...)."""
        return parse_name(self.filename)

    @property
    def emotion(self):
        return self.clip.emotion

    @property
    def actor(self):
        return self.clip.actor

    @property
    def gender(self):
        return self.clip.gender

    @property
    def statement(self):
        return STATEMENTS[f"{self.clip.statement:02d}"] + "."

    @property
    def filename(self):
        return f"{self.slug}.flac"

    @property
    def path(self):
        return Path(settings.BASE_DIR) / "static" / EXAMPLES_DIR / self.filename

    @property
    def url(self):
        return static(f"{EXAMPLES_DIR}/{self.filename}")

    def open(self):
        """The clip as a Django File (for services.analyse_upload); close it when done."""
        return File(open(self.path, "rb"), name=self.upload_name)

    @property
    def upload_name(self):
        """The file name its analyses carry in the history."""
        return f"example {self.filename}"


EXAMPLES = [Example(slug) for slug in (
    "03-01-03-02-02-02-03",   # happy, actor 3 (male)
    "03-01-05-02-02-01-08",   # angry, actor 8 (female)
    "03-01-04-02-01-01-11",   # sad, actor 11 (male)
    "03-01-08-02-01-02-14",   # surprised, actor 14 (female)
)]
BY_SLUG = {e.slug: e for e in EXAMPLES}
BY_FILENAME = {e.upload_name: e for e in EXAMPLES}
