"""Prediction: turn audio into an emotion, its confidence, all probabilities and the gender."""
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import artifact as artifact_io
from .audio import Audio, load_audio
from .features import extract, get_config


@dataclass
class Prediction:
    """The result of analysing one recording."""
    emotion: str
    confidence: float
    probabilities: dict
    gender: str
    gender_confidence: float
    duration_s: float
    processing_ms: float

    def to_dict(self):
        """JSON-ready dict (the `predict --json` / API contract, without the file name)."""
        return asdict(self)


class Predictor:
    """Holds a loaded artifact and analyses audio with it."""

    def __init__(self, artifact):
        self.artifact = artifact
        self.config = get_config(artifact.metadata["feature_set"])

    @classmethod
    def from_path(cls, path=artifact_io.DEFAULT_MODEL_PATH):
        """Load the artifact at path (default: the bundled model)."""
        return cls(artifact_io.load(path))

    def predict_audio(self, audio: Audio, started=None):
        """Classify an already loaded Audio."""
        started = time.perf_counter() if started is None else started
        x = extract(audio.samples, self.config)[None, :]
        proba = self.artifact.emotion_model.predict_proba(x)[0]
        proba = proba / proba.sum()
        g_proba = self.artifact.gender_model.predict_proba(x)[0]
        best, g_best = int(np.argmax(proba)), int(np.argmax(g_proba))
        return Prediction(
            emotion=str(self.artifact.emotion_model.classes_[best]),
            confidence=float(proba[best]),
            probabilities={str(c): float(p)
                           for c, p in zip(self.artifact.emotion_model.classes_, proba)},
            gender=str(self.artifact.gender_model.classes_[g_best]),
            gender_confidence=float(g_proba[g_best]),
            duration_s=round(audio.duration_s, 3),
            processing_ms=round(1000 * (time.perf_counter() - started), 1),
        )

    def predict_file(self, source):
        """Load (path or binary file object) and classify; raises AudioError for bad input."""
        started = time.perf_counter()
        return self.predict_audio(load_audio(source), started)
