"""Speaker statistics: what a voice profile holds, and the speaker-normalising transform.

A profile is the running mean and spread of the feature vectors of one speaker's clips, how many
clips and how many seconds of speech they came from -- never audio. Normalising a clip by its
speaker's statistics removes what is merely that voice (its usual pitch, loudness, timbre,
speed), so the adapted model sees how this clip differs from the speaker's habit.

Few clips give noisy statistics, so they are shrunk toward the population's (the mean of the
training speakers' means and their typical within-speaker spread): with n clips the estimate
weighs n against `prior_clips` pseudo-clips of the population; below `min_scale_clips` only the
mean is the speaker's and the spread stays the population's. numpy only (used when predicting).
"""
import json
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from . import inference

PROFILE_FORMAT = "ser-voice-profile/1"
# From the enrolment curve (`evaluate --adapt`, MODEL_CARD.md): with 8 reference clips (about 17 s
# of speech) the adapted model is 4.9 points above the generic one for references of any emotion,
# and calm ones are 4.4 points up with six: enrolment asks for 8.
ENOUGH_CLIPS = 8
# A live session adapts to its own speaker after this many 2.5 s windows of speech (~10 s):
# at k = 4 the curve is already 3.0 / 4.0 points above the generic model (random / calm).
SESSION_MIN_CLIPS = 4


class ProfileError(ValueError):
    """A profile file or statistics object that cannot be used (message says why)."""


class SpeakerStats:
    """Running count, seconds, mean and sum of squared deviations of feature vectors (Chan et
    al.'s parallel update, so batches and single clips merge exactly)."""

    def __init__(self, dim, count=0, seconds=0.0, mean=None, m2=None, feature_key=""):
        self.dim = int(dim)
        self.count = int(count)
        self.seconds = float(seconds)
        self.mean = np.zeros(self.dim) if mean is None else np.asarray(mean, np.float64)
        self.m2 = np.zeros(self.dim) if m2 is None else np.asarray(m2, np.float64)
        self.feature_key = feature_key
        if self.mean.shape != (self.dim,) or self.m2.shape != (self.dim,):
            raise ProfileError(f"Statistics must hold {self.dim} values each.")

    @classmethod
    def of(cls, X, seconds=0.0, feature_key=""):
        """Statistics of the feature rows X [n, d]."""
        X = np.atleast_2d(np.asarray(X, np.float64))
        return cls(X.shape[1], feature_key=feature_key).add(X, seconds)

    def add(self, X, seconds=0.0):
        """Fold feature rows X [n, d] (and their seconds of speech) in; returns self."""
        X = np.atleast_2d(np.asarray(X, np.float64))
        if X.shape[1] != self.dim:
            raise ProfileError(f"Feature vectors have {X.shape[1]} values; this profile holds "
                               f"{self.dim}.")
        n = len(X)
        if n == 0:
            return self
        batch_mean = X.mean(axis=0)
        batch_m2 = ((X - batch_mean) ** 2).sum(axis=0)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + batch_m2 + delta ** 2 * (self.count * n / total)
        self.count, self.seconds = total, self.seconds + float(seconds)
        return self

    def merged(self, other):
        """A new SpeakerStats holding both (e.g. a profile plus a session's own speech)."""
        if other.dim != self.dim:
            raise ProfileError("Cannot merge statistics of different feature sets.")
        out = SpeakerStats(self.dim, self.count, self.seconds, self.mean.copy(), self.m2.copy(),
                           self.feature_key)
        if other.count:
            total = self.count + other.count
            delta = other.mean - self.mean
            out.mean = self.mean + delta * (other.count / total)
            out.m2 = self.m2 + other.m2 + delta ** 2 * (self.count * other.count / total)
            out.count, out.seconds = total, self.seconds + other.seconds
        return out

    @property
    def std(self):
        """Per-feature standard deviation (population form; zeros for fewer than 2 clips)."""
        return np.sqrt(self.m2 / self.count) if self.count > 1 else np.zeros(self.dim)

    def to_dict(self):
        """JSON-ready form (what profile files and the database store)."""
        return {"format": PROFILE_FORMAT, "feature_key": self.feature_key, "dim": self.dim,
                "count": self.count, "seconds": round(self.seconds, 3),
                "mean": [float(v) for v in self.mean], "m2": [float(v) for v in self.m2]}

    @classmethod
    def from_dict(cls, data):
        """Inverse of to_dict; ProfileError if it is not a valid profile."""
        try:
            if data.get("format") != PROFILE_FORMAT:
                raise ProfileError(f"Not a voice profile (format {PROFILE_FORMAT} expected).")
            stats = cls(data["dim"], data["count"], data["seconds"], data["mean"], data["m2"],
                        data.get("feature_key", ""))
        except ProfileError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ProfileError("Not a valid voice profile (fields format, dim, count, seconds, "
                               "mean, m2 expected).") from None
        if (stats.count < 0 or not np.isfinite(stats.mean).all()
                or not np.isfinite(stats.m2).all() or (stats.m2 < 0).any()):
            raise ProfileError("The voice profile holds invalid statistics.")
        return stats


def save_profile(stats, path, name=""):
    """Write statistics as a JSON profile file (atomically)."""
    data = dict(stats.to_dict(), name=name)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".profile-", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def load_profile(path):
    """(SpeakerStats, name) from a profile file; ProfileError with a clear message if bad."""
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ProfileError(f"No profile file at {path}.") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise ProfileError(f"{path} is not a voice profile (JSON written by `enrol`).") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path} is not a voice profile (JSON written by `enrol`).")
    return SpeakerStats.from_dict(data), str(data.get("name", ""))


def reference(stats, population):
    """(centre, scale) to normalise a speaker's clips with: the speaker's mean and spread shrunk
    toward the population's (population: the dict SpeakerNormalizer learns, see ml.adapt)."""
    pop_mean = np.asarray(population["mean"], np.float64)
    pop_scale = np.asarray(population["within_std"], np.float64)
    n = stats.count if stats is not None else 0
    if n == 0:
        return pop_mean, pop_scale
    prior = population["prior_clips"]
    centre = (n * stats.mean + prior * pop_mean) / (n + prior)
    if n < population["min_scale_clips"]:
        return centre, pop_scale
    var = (n * stats.std ** 2 + prior * pop_scale ** 2) / (n + prior)
    return centre, np.sqrt(np.maximum(var, 1e-12))


def normalise(X, stats, population):
    """Feature rows X [n, d] expressed relative to the speaker (float32); with the population's
    keep_absolute, the population-normalised rows come first [n, 2d]."""
    X = np.asarray(X, np.float64)
    centre, scale = reference(stats, population)
    relative = (X - centre) / scale
    if population.get("keep_absolute"):
        absolute = (X - population["mean"]) / population["within_std"]
        relative = np.hstack([absolute, relative])
    return relative.astype(np.float32)


def adapted_proba(form, X, stats, generic):
    """Probabilities of the adapted model (its numpy form, ml.adapt.AdaptedModel) for rows X of
    the speaker described by stats, pooled with the generic model's probabilities `generic`:
    the normalised weighted geometric mean, adapted^w * generic^(1-w), w the form's blend
    (log-linear pooling measured better than the arithmetic mean at every k, MODEL_CARD.md)."""
    adapted = inference.predict_proba(form["model"], normalise(X, stats, form["population"]))
    w = form.get("blend", 1.0)
    log_p = w * np.log(np.clip(adapted, 1e-12, 1.0)) + \
        (1 - w) * np.log(np.clip(np.asarray(generic, np.float64), 1e-12, 1.0))
    log_p -= log_p.max(axis=1, keepdims=True)
    pooled = np.exp(log_p)
    return pooled / pooled.sum(axis=1, keepdims=True)


@dataclass
class Adaptation:
    """Speaker statistics to adapt to, and where they came from (reported with every result):
    source "profile" (a saved voice profile), "same-speaker" (the files analysed together) or
    "session" (what a live session has heard so far)."""
    stats: SpeakerStats
    source: str = "profile"
    name: str = ""

    def describe(self):
        """JSON-ready summary: {"source", "profile", "clips", "seconds"}."""
        return {"source": self.source, "profile": self.name or None,
                "clips": self.stats.count, "seconds": round(self.stats.seconds, 1)}
