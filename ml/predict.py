"""Prediction: turn audio into an emotion, its calibrated probability, all probabilities, whether
the answer is uncertain (then the two most likely emotions are what to show) and the gender."""
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import artifact as artifact_io
from . import inference, segment, vad
from .audio import SAMPLE_RATE, Audio, decode, prepare
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
    uncertain: bool = False
    top_two: list = None
    adaptation: dict | None = None  # ml.speaker.Adaptation.describe() when adapted to a speaker

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

    @property
    def feature_key(self):
        """Identifies the feature vectors this model reads; voice profiles carry it."""
        return f"{self.config.name}:{self.config.key}:{self.artifact.metadata.get('n_features')}"

    @property
    def can_adapt(self):
        """Whether the artifact holds a speaker-adapted model."""
        return "adapted" in self.artifact.inference

    def adapts(self, adaptation):
        """Whether predictions with this ml.speaker.Adaptation (or None) are adapted: the model
        has an adapted part and the statistics hold at least one clip."""
        return adaptation is not None and adaptation.stats.count > 0 and self.can_adapt

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
        adaptation: an ml.speaker.Adaptation with the speaker's statistics (see adapts()).
        """
        started = time.perf_counter()
        proba, g_proba = self.probabilities(X, adaptation)
        share_ms = 1000 * (time.perf_counter() - started) / len(X)
        described = adaptation.describe() if self.adapts(adaptation) else None
        return [self.make_prediction(p, g, duration, elapsed + share_ms, described)
                for p, g, duration, elapsed in zip(proba, g_proba, durations_s, elapsed_ms)]

    def probabilities(self, X, adaptation=None):
        """Calibrated (emotion [n, emotions], gender [n, 2]) probabilities of feature rows X;
        the emotion ones adapted to the speaker when self.adapts(adaptation)."""
        forms = self.artifact.inference
        emotion = inference.predict_proba(forms["emotion"], X)
        head = "emotion"
        if self.adapts(adaptation):
            self.check_stats(adaptation.stats)
            emotion = adapted_proba(forms["adapted"], X, adaptation.stats, emotion)
            head = "adapted"
        return (inference.calibrate(self.artifact.calibration_form(head), emotion),
                inference.calibrate(self.artifact.calibration_form("gender"),
                                    inference.predict_proba(forms["gender"], X)))

    def make_prediction(self, proba, g_proba, duration_s, processing_ms, adaptation=None):
        """A Prediction from one clip's calibrated emotion and gender probabilities
        (adaptation: how they were adapted, as Adaptation.describe() gives it)."""
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
            top_two=[emotions[int(i)] for i in order[:2]], adaptation=adaptation)

    def warm_up(self):
        """Run one dummy clip through features and both models so the first real request does
        not pay for lazy imports, filterbank construction and first-touch memory (call it once
        at process start, right after loading)."""
        t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
        tone = 0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        self.predict_samples(tone.astype(np.float32))
        vad.load_models()

    def predict_samples(self, samples, sample_rate=SAMPLE_RATE, adaptation=None):
        """Classify a raw waveform (e.g. a live or timeline window) with the same trimming and
        normalisation as load_audio; raises AudioError when it holds no usable speech."""
        started = time.perf_counter()
        return self.predict_audio(prepare(samples, sample_rate), started, adaptation)

    def analyse(self, samples, started=None, adaptation=None):
        """The one analysis of a recording (16 kHz mono samples, untrimmed), whatever its
        length: (Prediction, timeline entries) — see ml.segment; adapted to a speaker when
        adaptation is given. Raises AudioError when it holds no speech."""
        started = time.perf_counter() if started is None else started
        plan = segment.plan(samples)
        return self.combine(plan, segment.featurise(plan, self.config), started, adaptation)

    def combine(self, plan, features, started, adaptation=None):
        """(Prediction, timeline entries) of an ml.segment plan from its windows' feature rows
        (processing time counted from `started`, a perf_counter value)."""
        proba, g_proba = self.probabilities(features, adaptation)
        return segment.combine(self, plan, proba, g_proba, 1000 * (time.perf_counter() - started),
                               adaptation.describe() if self.adapts(adaptation) else None)

    def predict_file(self, source, adaptation=None):
        """Load (path or binary file object) and analyse it; raises AudioError for bad input."""
        started = time.perf_counter()
        return self.analyse(decode(source).samples, started, adaptation)[0]
