"""Feature extraction: one function maps a 16 kHz waveform to a fixed-length vector.

One STFT per clip (float32, scipy.fft); mel, MFCC, chroma and spectral shape are all derived from
it with precomputed matrices, and every statistic is taken in one vectorised pass. Two named
feature sets exist: "tutorial" (the original 40 MFCC + 12 chroma + 128 mel means) and
"default" (richer utterance statistics of spectral, cepstral, energy and pitch contours).
The filterbanks are numpy re-implementations of librosa's (tested equal), so predicting never
imports librosa or compiles anything with numba.
"""
import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import scipy.fft

from . import descriptors, pitch, runtime
from .arrays import percentiles, window_sums
from .audio import SAMPLE_RATE

runtime.tune()


@dataclass(frozen=True)
class FeatureConfig:
    """Names a feature set and every parameter that changes its output."""
    name: str
    n_fft: int = 512
    hop: int = 320
    n_mels: int = 64
    n_mfcc: int = 20
    version: int = 2
    fmax: int = 8000   # spectral features use 0..fmax Hz (> 4000)
    floor_db: int = 0  # > 0: power below the clip's peak bin minus this many dB is raised to it

    def to_dict(self):
        """Plain-dict form stored in model metadata."""
        return asdict(self)

    @property
    def key(self):
        """Short hash identifying this configuration (used by the feature cache)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


FEATURE_SETS = {
    "default": FeatureConfig("default", floor_db=60),
    "tutorial": FeatureConfig("tutorial", n_fft=2048, hop=512, n_mels=128, n_mfcc=40, version=1),
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


def _hz_to_mel(f):
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as librosa.hz_to_mel."""
    f = np.asarray(f, dtype=np.float64)
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27),
                    f / (200.0 / 3))


def _mel_to_hz(m):
    return np.where(m >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27 * (m - 15.0)), m * (200.0 / 3))


def mel_filterbank(sr, n_fft, n_mels, fmax=None):
    """Slaney-normalised triangular mel filters [n_mels, 1 + n_fft // 2] from 0 to fmax
    (default sr / 2) Hz (= librosa.filters.mel)."""
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    top = sr / 2 if fmax is None else fmax
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(top), n_mels + 2))
    ramps = mel_f[:, None] - fft_freqs[None, :]
    fdiff = np.diff(mel_f)[:, None]
    lower = -ramps[:-2] / fdiff[:-1]
    upper = ramps[2:] / fdiff[1:]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def chroma_filterbank(sr, n_fft, n_chroma=12):
    """Gaussian chroma filters [n_chroma, 1 + n_fft // 2] (= librosa.filters.chroma defaults)."""
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    bins = n_chroma * np.log2(freqs / (440.0 / 16))
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(np.diff(bins), 1.0), [1]))
    half = np.round(n_chroma / 2)
    d = np.remainder(bins[None, :] - np.arange(n_chroma)[:, None] + half + 10 * n_chroma,
                     n_chroma) - half
    w = np.exp(-0.5 * (2 * d / widths[None, :]) ** 2)
    w /= np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    w *= np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2) ** 2)[None, :]
    w = np.roll(w, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(w[:, :1 + n_fft // 2], dtype=np.float32)


@dataclass(frozen=True)
class _Matrices:
    """Everything about a configuration that does not depend on the clip; every matrix covers
    the n_bins STFT bins from 0 to fmax."""
    n_bins: int
    window: np.ndarray   # periodic Hann [n_fft]
    mel: np.ndarray      # [n_mels, n_bins]
    chroma: np.ndarray   # [12, n_bins]
    dct: np.ndarray      # orthonormal DCT-II rows [n_mfcc, n_mels]
    freqs: np.ndarray    # bin centre frequencies [n_bins]
    bands: np.ndarray    # 0/1 octave-band membership [6, n_bins]
    moments: np.ndarray  # rows f and f^2 (Hz) [2, n_bins] for spectral centroid and spread


BAND_EDGES = (0, 250, 500, 1000, 2000, 4000, 8001)


@lru_cache(maxsize=8)
def _matrices(n_fft, n_mels, n_mfcc, fmax=SAMPLE_RATE // 2):
    if not 4000 < fmax <= SAMPLE_RATE // 2:
        raise ValueError(f"fmax must be above 4000 Hz and at most {SAMPLE_RATE // 2} Hz.")
    freqs = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    n_bins = int(np.searchsorted(freqs, fmax, side="right"))
    freqs = freqs[:n_bins]
    edges = BAND_EDGES[:-1] + (fmax + 1,)
    bands = np.array([(freqs >= a) & (freqs < b) for a, b in zip(edges, edges[1:])])
    return _Matrices(
        n_bins=n_bins,
        window=(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32),
        mel=np.ascontiguousarray(mel_filterbank(SAMPLE_RATE, n_fft, n_mels, fmax)[:, :n_bins]),
        chroma=np.ascontiguousarray(chroma_filterbank(SAMPLE_RATE, n_fft)[:, :n_bins]),
        dct=scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)[:n_mfcc].astype(np.float32),
        freqs=freqs, bands=bands.astype(np.float32),
        moments=np.array([freqs, freqs ** 2], dtype=np.float32))


def _stft_power(y, n_fft, hop, window):
    """|STFT|^2 [bins, T] of a centred, zero-padded float32 signal."""
    y = np.pad(y, n_fft // 2, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop]
    spec = scipy.fft.rfft(frames * window, axis=1, overwrite_x=True)
    return (spec.real ** 2 + spec.imag ** 2).T


def _delta(m):
    """First derivative along time: Savitzky-Golay (window 9, order 1, 'interp' edges).

    For order 1 this is the least-squares slope over 9 frames, sum(k * m[t + k]) / 60 for
    k = -4..4; at the edges the slope of the first/last full window is repeated (exactly what
    scipy's savgol_filter(mode='interp') does).
    """
    T = m.shape[1]
    if T < 9:
        return np.zeros_like(m)
    slope = np.zeros((m.shape[0], T - 8), dtype=m.dtype)
    for k in range(1, 5):
        slope += k * (m[:, 4 + k:T - 4 + k] - m[:, 4 - k:T - 4 - k])
    slope /= 60.0
    return np.concatenate([np.repeat(slope[:, :1], 4, axis=1), slope,
                           np.repeat(slope[:, -1:], 4, axis=1)], axis=1)


def _tutorial(power, cfg, mx):
    mel = mx.mel @ power
    log_mel = 10 * np.log10(np.maximum(mel, 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - 80.0)  # librosa.power_to_db(top_db=80)
    chroma = mx.chroma @ np.sqrt(power)  # magnitude chroma, as the tutorial
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    return np.concatenate([mx.dct @ log_mel.mean(axis=1), chroma.mean(axis=1), mel.mean(axis=1)])


def _spectral_shape(power, mx, frame_power):
    total = np.maximum(frame_power, 1e-12)
    moments = mx.moments @ power  # sum(f p), sum(f^2 p) per frame
    centroid = moments[0] / total
    # sum((f - centroid)^2 p) expanded (float32 cancellation error ~1e-7 of f^2: negligible)
    spread = moments[1] / total - centroid ** 2
    bandwidth = np.sqrt(np.maximum(spread, 0))
    reached = np.cumsum(power, axis=0) >= 0.85 * total
    rolloff = mx.freqs[np.argmax(reached, axis=0)]
    flatness = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (power.mean(axis=0) + 1e-12)
    band_db = 10 * np.log10(np.maximum(mx.bands @ power, 1e-12))
    tilt = band_db - band_db.mean(axis=0, keepdims=True)  # level-free spectral balance
    return np.vstack([centroid / 1000, bandwidth / 1000, rolloff / 1000,
                      np.log10(flatness + 1e-12), tilt])


def _zero_crossing_rate(y, n_fft, hop, n_frames):
    """Fraction of sign changes in each n_fft window (windows start every hop samples)."""
    sign = np.sign(np.pad(y, (0, n_fft)))
    changes = np.zeros(len(sign), dtype=np.int8)  # changes[i]: sample i to i + 1 (last: none)
    np.not_equal(sign[1:], sign[:-1], out=changes[:-1], casting="unsafe")
    starts = np.arange(n_frames) * hop
    # n_fft sums hold the n_fft - 1 pairs inside the window plus the one leaving it
    return (window_sums(changes, n_fft, hop, n_frames) - changes[starts + n_fft - 1]) / (n_fft - 1)


def _prosody(n_samples, log_energy, f0, strength):
    voiced = ~np.isnan(f0)
    if voiced.sum() >= 3:
        semitones = 12 * np.log2(f0[voiced] / 100.0)
        d = np.diff(semitones)
        p5, p50, p95 = percentiles(semitones[None, :], (5, 50, 95))[0]
        t = np.arange(len(semitones)) - (len(semitones) - 1) / 2
        slope = t @ semitones / (t @ t)  # least-squares line slope (= np.polyfit(.., 1)[0])
        pitch_feats = [semitones.mean(), semitones.std(), p5, p50, p95, p95 - p5,
                       np.abs(d).mean(), d.std(), slope * 100]
    else:
        pitch_feats = [0.0] * 9
    e = log_energy
    runs = np.diff(np.concatenate([[0], voiced.astype(int), [0]]))
    n_segments = (runs == 1).sum()
    duration = n_samples / SAMPLE_RATE
    p10, p90 = percentiles(e[None, :], (10, 90))[0]
    rhythm = [voiced.mean(), n_segments / max(duration, 1e-3), strength.mean(),
              e.std(), p90 - p10, np.abs(np.diff(e)).mean()]
    return np.array(pitch_feats + rhythm, dtype=np.float64)


def _default(y, power, cfg, mx):
    frame_power = power.sum(axis=0)
    log_mel = 10 * np.log10(np.maximum(mx.mel @ power, 1e-10))
    mfcc = mx.dct @ log_mel
    d_mfcc = _delta(mfcc)
    dd_mfcc = _delta(d_mfcc)
    chroma = mx.chroma @ power
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    log_energy = 10 * np.log10(np.maximum(frame_power, 1e-10))
    zcr = _zero_crossing_rate(y, cfg.n_fft, cfg.hop, power.shape[1])
    shape = _spectral_shape(power, mx, frame_power)
    log_mel_rel = log_mel - log_mel.mean(axis=0, keepdims=True)
    f0, strength = pitch.track(y, SAMPLE_RATE, hop=cfg.hop)
    n = min(len(f0), power.shape[1])
    f0, strength = f0[:n], strength[:n]
    # every contour's mean and std in one pass; percentiles for the first three blocks
    blocks = [mfcc, shape, zcr[None, :], d_mfcc, dd_mfcc, log_mel_rel, chroma]
    rows = np.vstack(blocks)
    ends = np.cumsum([len(b) for b in blocks])
    mean = np.split(rows.mean(axis=1), ends[:-1])
    std = np.split(rows.std(axis=1), ends[:-1])
    pct = np.split(percentiles(rows[:ends[2]], (10, 90)), ends[:2])

    def stats(i):  # mean, std, 10th and 90th percentile of blocks[i]
        return [mean[i], std[i], pct[i][:, 0], pct[i][:, 1]]

    parts = [*stats(0), mean[3], std[3], mean[4], std[4], mean[5], std[5], mean[6], std[6],
             *stats(1), *stats(2), _prosody(len(y), log_energy, f0, strength)]
    if cfg.version >= 2:  # prosody, voice quality, rhythm and contrast (ml/descriptors.py)
        parts.append(descriptors.descriptors(
            len(y), SAMPLE_RATE, cfg.hop, power[:, :n], mx.freqs, log_mel[:, :n], mfcc[:, :n],
            log_energy[:n], f0, strength, frame_power[:n]))
    return np.concatenate(parts)


def extract(y, config="default"):
    """Map a mono 16 kHz waveform to the feature vector of the given set (float32)."""
    cfg = get_config(config) if not isinstance(config, FeatureConfig) else config
    mx = _matrices(cfg.n_fft, cfg.n_mels, cfg.n_mfcc, cfg.fmax)
    y = np.asarray(y, dtype=np.float32)
    power = _stft_power(y, cfg.n_fft, cfg.hop, mx.window)[:mx.n_bins]
    if cfg.floor_db > 0:
        power = np.maximum(power, power.max() * np.float32(10 ** (-cfg.floor_db / 10)))
    vec = _tutorial(power, cfg, mx) if cfg.name == "tutorial" else _default(y, power, cfg, mx)
    return np.nan_to_num(vec.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
