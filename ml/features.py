"""Feature extraction: one function maps a 16 kHz waveform to a fixed-length vector.

One STFT per clip; mel, MFCC, chroma and spectral shape are all derived from it. Two named
feature sets exist: "tutorial" (the original 40 MFCC + 12 chroma + 128 mel means) and
"default" (richer utterance statistics of spectral, cepstral, energy and pitch contours).
"""
import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import librosa
import numpy as np
import scipy.fft
import scipy.signal

from . import pitch
from .audio import SAMPLE_RATE


@dataclass(frozen=True)
class FeatureConfig:
    """Names a feature set and every parameter that changes its output."""
    name: str
    n_fft: int = 512
    hop: int = 160
    n_mels: int = 64
    n_mfcc: int = 20
    version: int = 1

    def to_dict(self):
        """Plain-dict form stored in model metadata."""
        return asdict(self)

    @property
    def key(self):
        """Short hash identifying this configuration (used by the feature cache)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


FEATURE_SETS = {
    "default": FeatureConfig("default"),
    "tutorial": FeatureConfig("tutorial", n_fft=2048, hop=512, n_mels=128, n_mfcc=40),
}


def get_config(name_or_dict):
    """A FeatureConfig from a set name or from the dict stored in a model's metadata."""
    if isinstance(name_or_dict, dict):
        return FeatureConfig(**name_or_dict)
    try:
        return FEATURE_SETS[name_or_dict]
    except KeyError:
        raise ValueError(f"Unknown feature set {name_or_dict!r}; choose from "
                         f"{', '.join(FEATURE_SETS)}.") from None


@lru_cache(maxsize=8)
def _filters(n_fft, n_mels):
    mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=n_fft, n_mels=n_mels)
    chroma = librosa.filters.chroma(sr=SAMPLE_RATE, n_fft=n_fft, n_chroma=12)
    freqs = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    return mel, chroma, freqs, scipy.signal.get_window("hann", n_fft)


def _stft_magnitude(y, n_fft, hop, window):
    y = np.pad(y, n_fft // 2, mode="constant")
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop]
    return np.abs(np.fft.rfft(frames * window, axis=1)).T.astype(np.float32)  # [bins, T]


def _stats(m):
    """Mean, std, 10th and 90th percentile of each row of a [d, T] matrix."""
    m = np.atleast_2d(m)
    p10, p90 = np.percentile(m, [10, 90], axis=1)
    return np.concatenate([m.mean(axis=1), m.std(axis=1), p10, p90])


def _delta(m):
    if m.shape[1] < 9:
        return np.zeros_like(m)
    return scipy.signal.savgol_filter(m, 9, 1, deriv=1, axis=1, mode="interp")


def _tutorial(mag, cfg):
    mel_fb, chroma_fb, _, _ = _filters(cfg.n_fft, cfg.n_mels)
    power = mag ** 2
    mel = mel_fb @ power
    mfcc = scipy.fft.dct(librosa.power_to_db(mel), axis=0, type=2, norm="ortho")[:cfg.n_mfcc]
    chroma = chroma_fb @ mag
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    return np.concatenate([mfcc.mean(axis=1), chroma.mean(axis=1), mel.mean(axis=1)])


def _spectral_shape(mag, power, freqs):
    total = np.maximum(power.sum(axis=0), 1e-12)
    centroid = (freqs[:, None] * power).sum(axis=0) / total
    bandwidth = np.sqrt(((freqs[:, None] - centroid) ** 2 * power).sum(axis=0) / total)
    cumulative = np.cumsum(power, axis=0) / total
    rolloff = freqs[np.argmax(cumulative >= 0.85, axis=0)]
    flatness = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (power.mean(axis=0) + 1e-12)
    edges = [0, 250, 500, 1000, 2000, 4000, 8001]
    bands = [power[(freqs >= a) & (freqs < b)].sum(axis=0) for a, b in zip(edges, edges[1:])]
    band_db = 10 * np.log10(np.maximum(np.array(bands), 1e-12))
    tilt = band_db - band_db.mean(axis=0, keepdims=True)  # level-free spectral balance
    return np.vstack([centroid / 1000, bandwidth / 1000, rolloff / 1000,
                      np.log10(flatness + 1e-12), tilt])


def _prosody(y, log_energy):
    f0, strength = pitch.track(y, SAMPLE_RATE)
    n = min(len(f0), log_energy.shape[0])
    f0, strength = f0[:n], strength[:n]
    voiced = ~np.isnan(f0)
    if voiced.sum() >= 3:
        semitones = 12 * np.log2(f0[voiced] / 100.0)
        d = np.diff(semitones)
        p5, p50, p95 = np.percentile(semitones, [5, 50, 95])
        slope = np.polyfit(np.arange(len(semitones)), semitones, 1)[0]
        pitch_feats = [semitones.mean(), semitones.std(), p5, p50, p95, p95 - p5,
                       np.abs(d).mean(), d.std(), slope * 100]
    else:
        pitch_feats = [0.0] * 9
    e = log_energy
    runs = np.diff(np.concatenate([[0], voiced.astype(int), [0]]))
    n_segments = (runs == 1).sum()
    duration = len(y) / SAMPLE_RATE
    rhythm = [voiced.mean(), n_segments / max(duration, 1e-3), strength.mean(),
              e.std(), np.percentile(e, 90) - np.percentile(e, 10), np.abs(np.diff(e)).mean()]
    return np.array(pitch_feats + rhythm, dtype=np.float64)


def _default(y, mag, cfg):
    mel_fb, chroma_fb, freqs, _ = _filters(cfg.n_fft, cfg.n_mels)
    power = mag ** 2
    log_mel = 10 * np.log10(np.maximum(mel_fb @ power, 1e-10))
    mfcc = scipy.fft.dct(log_mel, axis=0, type=2, norm="ortho")[:cfg.n_mfcc]
    d_mfcc = _delta(mfcc)
    dd_mfcc = _delta(d_mfcc)
    chroma = chroma_fb @ power
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    log_energy = 10 * np.log10(np.maximum(power.sum(axis=0), 1e-10))
    zcr_frames = np.lib.stride_tricks.sliding_window_view(
        np.pad(y, (0, cfg.n_fft)), cfg.n_fft)[::cfg.hop][:mag.shape[1]]
    zcr = np.mean(np.abs(np.diff(np.sign(zcr_frames), axis=1)) > 0, axis=1)
    shape = _spectral_shape(mag, power, freqs)
    log_mel_rel = log_mel - log_mel.mean(axis=0, keepdims=True)
    return np.concatenate([
        _stats(mfcc), _stats(d_mfcc)[:2 * cfg.n_mfcc], _stats(dd_mfcc)[:2 * cfg.n_mfcc],
        log_mel_rel.mean(axis=1), log_mel_rel.std(axis=1),
        chroma.mean(axis=1), chroma.std(axis=1),
        _stats(shape), _stats(zcr[None, :]), _prosody(y, log_energy),
    ])


def extract(y, config="default"):
    """Map a mono 16 kHz waveform to the feature vector of the given set (float32)."""
    cfg = get_config(config) if not isinstance(config, FeatureConfig) else config
    _, _, _, window = _filters(cfg.n_fft, cfg.n_mels)
    mag = _stft_magnitude(np.asarray(y, dtype=np.float32), cfg.n_fft, cfg.hop, window)
    vec = _tutorial(mag, cfg) if cfg.name == "tutorial" else _default(y, mag, cfg)
    return np.nan_to_num(vec.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
