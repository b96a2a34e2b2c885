"""Prediction: turn audio into an emotion, its calibrated probability, all probabilities, whether
the answer is uncertain (then the two most likely emotions are what to show) and the gender."""
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import artifact as artifact_io
from . import inference
from . import segment, vad
from .audio import SAMPLE_RATE, Audio, decode, prepare
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
    uncertain: bool = False
    top_two: list = None

    def to_dict(self):
        """JSON-ready dict (the `predict --json` / API contract, without the file name)."""
        return asdict(self)


class Predictor:
    """Holds a loaded artifact and analyses audio with it."""

    def __init__(self, artifact):
        self.artifact = artifact
        self.config = get_config(artifact.metadata["feature_set"])
        calibration = artifact.metadata.get("calibration") or {}
        self.uncertain_below = float(calibration.get("uncertain_below") or 0.0)

    @classmethod
    def from_path(cls, path=artifact_io.DEFAULT_MODEL_PATH):
        """Load the artifact at path (default: the bundled model)."""
        return cls(artifact_io.load(path))

    def predict_audio(self, audio: Audio, started=None):
        """Classify an already loaded Audio."""
        started = time.perf_counter() if started is None else started
        x = extract(audio.samples, self.config)[None, :]
        elapsed_ms = 1000 * (time.perf_counter() - started)
        return self.predict_features(x, [audio.duration_s], [elapsed_ms])[0]

    def predict_features(self, X, durations_s, elapsed_ms):
        """Predictions for feature rows X [n, d] with one call of each model (batch use).

        durations_s: each clip's trimmed length; elapsed_ms: the time each clip took so far
        (loading + features); its processing_ms adds an equal share of the model calls.
        """
        started = time.perf_counter()
        proba, g_proba = self.probabilities(X)
        share_ms = 1000 * (time.perf_counter() - started) / len(X)
        return [self.make_prediction(p, g, duration, elapsed + share_ms)
                for p, g, duration, elapsed in zip(proba, g_proba, durations_s, elapsed_ms)]

    def probabilities(self, X):
        """Calibrated (emotion [n, emotions], gender [n, 2]) probabilities of feature rows X."""
        forms = self.artifact.inference
        return tuple(inference.calibrate(self.artifact.calibration_form(name),
                                         inference.predict_proba(forms[name], X))
                     for name in ("emotion", "gender"))

    def make_prediction(self, proba, g_proba, duration_s, processing_ms):
        """A Prediction from one clip's calibrated emotion and gender probabilities."""
        forms = self.artifact.inference
        emotions, genders = forms["emotion"]["classes"], forms["gender"]["classes"]
        order = np.argsort(-proba, kind="stable")
        best, g_best = int(order[0]), int(np.argmax(g_proba))
        return Prediction(
            emotion=emotions[best], confidence=float(proba[best]),
            probabilities={c: float(v) for c, v in zip(emotions, proba)},
            gender=genders[g_best], gender_confidence=float(g_proba[g_best]),
            duration_s=round(duration_s, 3), processing_ms=round(processing_ms, 1),
            uncertain=bool(proba[best] < self.uncertain_below),
            top_two=[emotions[int(i)] for i in order[:2]])

    def warm_up(self):
        """Run one dummy clip through features and both models so the first real request does
        not pay for lazy imports, filterbank construction and first-touch memory (call it once
        at process start, right after loading)."""
        t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
        tone = 0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        self.predict_samples(tone.astype(np.float32))
        vad.load_models()

    def predict_samples(self, samples, sample_rate=SAMPLE_RATE):
        """Classify a raw waveform (e.g. a live or timeline window) with the same trimming and
        normalisation as load_audio; raises AudioError when it holds no usable speech."""
        started = time.perf_counter()
        return self.predict_audio(prepare(samples, sample_rate), started)

    def analyse(self, samples, started=None):
        """The one analysis of a recording (16 kHz mono samples, untrimmed), whatever its
        length: (Prediction, timeline entries) — see ml.segment. Raises AudioError when it
        holds no speech."""
        started = time.perf_counter() if started is None else started
        plan = segment.plan(samples)
        X = segment.featurise(plan, self.config)
        proba, g_proba = self.probabilities(X)
        return segment.combine(self, plan, proba, g_proba,
                               1000 * (time.perf_counter() - started))

    def predict_file(self, source):
        """Load (path or binary file object) and analyse it; raises AudioError for bad input."""
        started = time.perf_counter()
        return self.analyse(decode(source).samples, started)[0]
