"""Prediction: turn audio into an emotion, its confidence, all probabilities and the gender."""
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import artifact as artifact_io
from . import inference
from .audio import SAMPLE_RATE, Audio, load_audio, prepare
from .features import extract, get_config
from .speaker import ProfileError, SpeakerStats, adapted_proba


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
    adaptation: dict | None = None  # Adaptation.describe() when adapted to a speaker

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

    @property
    def feature_key(self):
        """Identifies the feature vectors this model reads; voice profiles carry it."""
        return f"{self.config.name}:{self.config.key}:{self.artifact.metadata.get('n_features')}"

    @property
    def can_adapt(self):
        """Whether the artifact holds a speaker-adapted model."""
        return "adapted" in self.artifact.inference

    def new_stats(self):
        """Empty speaker statistics for this model's features."""
        return SpeakerStats(self.artifact.metadata["n_features"], feature_key=self.feature_key)

    def check_stats(self, stats):
        """Raise ProfileError if stats were made with other features than this model's."""
        if stats.feature_key != self.feature_key or stats.dim != self.new_stats().dim:
            raise ProfileError("This voice profile was made with another feature set than the "
                               "model's; enrol again.")

    def features(self, audio: Audio):
        """The feature vector of a loaded Audio (what speaker statistics are made of)."""
        return extract(audio.samples, self.config)

    def predict_audio(self, audio: Audio, started=None, adaptation=None):
        """Classify an already loaded Audio (adapted to a speaker when adaptation is given)."""
        started = time.perf_counter() if started is None else started
        x = self.features(audio)[None, :]
        elapsed_ms = 1000 * (time.perf_counter() - started)
        return self.predict_features(x, [audio.duration_s], [elapsed_ms], adaptation)[0]

    def predict_features(self, X, durations_s, elapsed_ms, adaptation=None):
        """Predictions for feature rows X [n, d] with one call of each model (batch use).

        durations_s: each clip's trimmed length; elapsed_ms: the time each clip took so far
        (loading + features); its processing_ms adds an equal share of the model calls.
        adaptation: an ml.speaker.Adaptation with the speaker's statistics; used when the model
        has an adapted part and the statistics hold at least one clip (else the generic model).
        """
        started = time.perf_counter()
        forms = self.artifact.inference
        proba = inference.predict_proba(forms["emotion"], X).astype(np.float64)
        adapted = adaptation is not None and adaptation.stats.count > 0 and self.can_adapt
        if adapted:
            self.check_stats(adaptation.stats)
            proba = adapted_proba(forms["adapted"], X, adaptation.stats, proba)
        proba = proba / proba.sum(axis=1, keepdims=True)
        g_proba = inference.predict_proba(forms["gender"], X)
        share_ms = 1000 * (time.perf_counter() - started) / len(X)
        emotions, genders = forms["emotion"]["classes"], forms["gender"]["classes"]
        results = []
        for p, g, duration, elapsed in zip(proba, g_proba, durations_s, elapsed_ms):
            best, g_best = int(np.argmax(p)), int(np.argmax(g))
            results.append(Prediction(
                emotion=emotions[best], confidence=float(p[best]),
                probabilities={c: float(v) for c, v in zip(emotions, p)},
                gender=genders[g_best], gender_confidence=float(g[g_best]),
                duration_s=round(duration, 3), processing_ms=round(elapsed + share_ms, 1),
                adaptation=adaptation.describe() if adapted else None))
        return results

    def warm_up(self):
        """Run one dummy clip through features and both models so the first real request does
        not pay for lazy imports, filterbank construction and first-touch memory (call it once
        at process start, right after loading)."""
        t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
        tone = 0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        self.predict_samples(tone.astype(np.float32))

    def predict_samples(self, samples, sample_rate=SAMPLE_RATE, adaptation=None):
        """Classify a raw waveform (e.g. a live or timeline window) with the same trimming and
        normalisation as load_audio; raises AudioError when it holds no usable speech."""
        started = time.perf_counter()
        return self.predict_audio(prepare(samples, sample_rate), started, adaptation)

    def predict_file(self, source, adaptation=None):
        """Load (path or binary file object) and classify; raises AudioError for bad input."""
        started = time.perf_counter()
        return self.predict_audio(load_audio(source), started, adaptation)
