"""Utterance descriptors added in feature version 2 (prosody, voice quality, rhythm, contrast).

Each function takes per-frame quantities the feature extractor has already computed (power
spectrogram, log energy, f0 track), so together they add only a few vectorised passes.
Grouped-CV ablation on RAVDESS (8 emotions, actors 01-20): together they lifted the single-MLP
accuracy from 53.2% to 57.9%; on their own (118 values) they reach 57.2%.
"""
from functools import lru_cache

import numpy as np
import scipy.fft

from .arrays import hanning, percentiles

CONTRAST_EDGES = ((0, 200), (200, 400), (400, 800), (800, 1600), (1600, 3200), (3200, 8001))
SIZE_PER_MFCC = 3   # voiced mean + voiced std + unvoiced mean
FIXED_SIZE = 12 + 11 + 12 + 7 + 16


def size(n_mfcc):
    """Number of values descriptors() returns."""
    return SIZE_PER_MFCC * n_mfcc + FIXED_SIZE


@lru_cache(maxsize=4)
def _savgol_quadratic():
    """savgol_filter(x, 9, 2) (mode='interp') as matrices: interior kernel and the two edge maps."""
    x = np.arange(9.0)
    fit = np.vander(x, 3) @ np.linalg.pinv(np.vander(x, 3))  # quadratic least-squares fit
    return fit[4], fit[:4], fit[5:]


def _smooth(x):
    """Savitzky-Golay smoothing, window 9, order 2, polynomial-fit edges (as scipy's 'interp')."""
    kernel, head, tail = _savgol_quadratic()
    inner = np.convolve(x, kernel[::-1], mode="valid")  # = sliding 9-sample windows @ kernel
    return np.concatenate([head @ x[:9], inner, tail @ x[-9:]])


@lru_cache(maxsize=4)
def _modulation_bands(hop, sr):
    fm = np.fft.rfftfreq(1024, hop / sr)
    return np.array([(fm >= a) & (fm < b) for a, b in ((0.5, 2), (2, 4), (4, 8), (8, 16))],
                    dtype=np.float64)


def _bins(freqs, a, b):
    """The slice of (ascending) bin frequencies in [a, b)."""
    return slice(int(np.searchsorted(freqs, a)), int(np.searchsorted(freqs, b)))


def _slope(y):
    """Least-squares slope of y against 0, 1, 2, ... (np.polyfit(x, y, 1)[0])."""
    t = np.arange(len(y)) - (len(y) - 1) / 2
    return float(t @ y / (t @ t))


def _median(x):
    return percentiles(x[None, :], (50,))[0, 0]


def _mean_std(m):
    m = np.atleast_2d(m)
    if m.shape[1] == 0:
        return np.zeros(2 * m.shape[0])
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def voice_quality(power, freqs, f0, strength, frame_power):
    """Voiced-frame alpha ratio, Hammarberg index, HNR, jitter/shimmer proxies, pitch spread."""
    voiced = ~np.isnan(f0)
    if voiced.sum() < 2:
        return np.zeros(12)
    pv = power[:, voiced]
    low, high = pv[_bins(freqs, 50, 1000)], pv[_bins(freqs, 1000, 5000)]
    alpha = 10 * np.log10((high.sum(axis=0) + 1e-12) / (low.sum(axis=0) + 1e-12))
    hammarberg = 10 * np.log10((pv[_bins(freqs, 0, 2000)].max(axis=0) + 1e-12)
                               / (pv[_bins(freqs, 2000, 5000)].max(axis=0) + 1e-12))
    r = np.clip(strength[voiced], 1e-3, 0.999)
    hnr = 10 * np.log10(r / (1 - r))
    semitones = 12 * np.log2(f0[voiced] / 100.0)
    both = voiced[1:] & voiced[:-1]
    if both.any():
        jitter = _median(np.abs(np.diff(f0))[both] / f0[1:][both])
        shimmer = _median(np.abs(np.diff(10 * np.log10(frame_power + 1e-12)))[both])
    else:
        jitter = shimmer = 0.0
    p25, p75 = percentiles(semitones[None, :], (25, 75))[0]
    series = np.array([alpha, hammarberg, hnr])  # mean and std of all three in one pass
    mean, std = series.mean(axis=1), series.std(axis=1)
    return np.array([mean[0], std[0], mean[1], std[1], mean[2], std[2], jitter, shimmer, p25, p75,
                     semitones.max() - semitones.mean(), semitones.mean() - semitones.min()])


def count_peaks(x, prominence):
    """Number of local maxima of x with at least this prominence; the same peaks as
    scipy.signal.find_peaks(x, prominence=...) (flat tops count once), without importing
    scipy.signal (which pulls in scipy.stats: most of a second at start-up).

    A peak's prominence reaches p when, on each side, x falls p below the peak before it rises
    above it (or the signal ends): all peaks are tested at once on a [peaks, samples] grid.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 3:
        return 0
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))  # runs of equal values
    ends = np.append(starts[1:], len(x)) - 1
    v = x[starts]
    top = np.flatnonzero((v[1:-1] > v[:-2]) & (v[1:-1] > v[2:])) + 1
    if not len(top):
        return 0
    peaks = (starts[top] + ends[top]) // 2
    height = x[peaks][:, None]
    index = np.arange(len(x))
    low = height - x[None, :] >= prominence
    high = x[None, :] > height
    left, right = index < peaks[:, None], index > peaks[:, None]
    last_low = np.where(left & low, index, -1).max(axis=1)
    last_high = np.where(left & high, index, -1).max(axis=1)
    first_low = np.where(right & low, index, len(x)).min(axis=1)
    first_high = np.where(right & high, index, len(x)).min(axis=1)
    return int(np.count_nonzero((last_low > last_high) & (first_low < first_high)))


def rhythm(n_samples, sr, log_energy, f0, hop):
    """Energy-envelope modulation spectrum, syllable-like peak rate, voiced runs and pauses."""
    e = np.maximum(log_energy - log_energy.max(), -60.0)
    env = e - e.mean()
    spec = np.abs(scipy.fft.rfft(env * hanning(len(env)), n=1024)) ** 2
    bands = _modulation_bands(hop, sr) @ spec
    bands = 10 * np.log10(bands / (bands.sum() + 1e-12) + 1e-12)
    smooth = _smooth(log_energy) if len(log_energy) > 9 else log_energy
    n_peaks = count_peaks(smooth, prominence=6)
    duration = n_samples / sr
    voiced = ~np.isnan(f0)
    runs = np.diff(np.concatenate([[0], voiced.astype(int), [0]]))
    starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
    seg = (ends - starts) * hop / sr if len(starts) else np.zeros(1)
    pauses = (starts[1:] - ends[:-1]) * hop / sr if len(starts) > 1 else np.zeros(1)
    return np.concatenate([bands, [n_peaks / max(duration, 1e-3), seg.mean(), seg.std(),
                                   seg.max(), pauses.mean(), pauses.max(), duration]])


def contrast(power, freqs):
    """Octave-band spectral contrast (log peak / valley magnitude, 20% quantiles), mean and std."""
    magnitude = np.sqrt(power.T)  # [frames, bins]: each band's rows sort contiguously
    rows = []
    for a, b in CONTRAST_EDGES:  # 6 bands
        band = np.sort(magnitude[:, _bins(freqs, a, b)], axis=1)
        k = max(1, int(0.2 * band.shape[1]))
        rows.append(np.log(band[:, -k:].sum(axis=1) / k + 1e-10)
                    - np.log(band[:, :k].sum(axis=1) / k + 1e-10))
    return _mean_std(np.array(rows))


def contour(f0, log_energy):
    """Pitch and energy over the thirds of the voiced part, and the final pitch movement."""
    voiced = ~np.isnan(f0)
    if voiced.sum() < 6:
        return np.zeros(7)
    semitones = 12 * np.log2(f0[voiced] / 100.0)
    n = len(semitones)
    sizes = np.array([n // 3 + (i < n % 3) for i in range(3)])  # as np.array_split(.., 3)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    means = np.add.reduceat(semitones, starts) / sizes
    final = _slope(semitones[-max(3, n // 5):])
    ev = log_energy[voiced]
    energy = np.add.reduceat(ev, starts) / sizes - ev.mean()
    return np.concatenate([means - means.mean(), [final * 10], energy])


def descriptors(n_samples, sr, hop, power, freqs, log_mel, mfcc, log_energy, f0, strength,
                frame_power):
    """All version-2 descriptors; per-frame inputs must share the same number of frames
    (frame_power: power.sum(axis=0))."""
    n_mfcc = mfcc.shape[0]
    voiced = ~np.isnan(f0)
    unvoiced = (log_energy > log_energy.max() - 35) & ~voiced
    parts = [
        _mean_std(mfcc[:, voiced]) if voiced.sum() > 1 else np.zeros(2 * n_mfcc),
        mfcc[:, unvoiced].mean(axis=1) if unvoiced.sum() > 1 else np.zeros(n_mfcc),
        voice_quality(power, freqs, f0, strength, frame_power),
        rhythm(n_samples, sr, log_energy, f0, hop),
        contrast(power, freqs),
        contour(f0, log_energy),
    ]
    n_mels = log_mel.shape[0]
    if log_mel.shape[1] > 2 and n_mels % 16 == 0:
        flux = np.abs(np.diff(log_mel, axis=1))
        parts.append(flux.reshape(16, n_mels // 16, -1).mean(axis=(1, 2)))
    else:
        parts.append(np.zeros(16))
    return np.concatenate(parts)
