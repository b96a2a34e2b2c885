"""Straightforward reference implementations of the fast feature code (tests only).

Written for clarity, not speed: librosa's filterbanks and power_to_db, a float64 numpy STFT,
scipy's Savitzky-Golay filter, np.percentile per matrix, boolean band masks, np.polyfit and a
full-length float64 autocorrelation for pitch. tests/test_perf_features.py checks that the fast
path in ml/ gives the same numbers within float tolerance.
"""
import librosa
import numpy as np
import scipy.fft
import scipy.signal

SR = 16000


def stft_magnitude(y, n_fft, hop):
    y = np.pad(np.asarray(y, np.float64), n_fft // 2)
    window = scipy.signal.get_window("hann", n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop]
    return np.abs(np.fft.rfft(frames * window, axis=1)).T  # [bins, T]


def frame_rms_db(y, frame=400, hop=160):
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)),
                                    1e-10))


def halved(y):
    """y at half the sample rate: the mean of each pair of samples."""
    return np.array([(y[i] + y[i + 1]) / 2 for i in range(0, len(y) - 1, 2)], dtype=np.float32)


def pitch_track(y, sr=SR, hop=160, frame=640, fmin=60.0, fmax=500.0, threshold=0.5):
    """Normalised autocorrelation pitch with a full 2x-length FFT (no lag truncation tricks)."""
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    n_fft = 2 * frame
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames * np.hanning(frame), n=n_fft)) ** 2)[:, :frame]
    window_acf = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(frame), n=n_fft)) ** 2)[:frame]
    acf = acf / np.maximum(window_acf, 1e-9)
    lo, hi = int(sr / fmax), min(int(sr / fmin), frame // 2)
    norm = np.maximum(acf[:, :1], 1e-12)
    r = acf[:, lo:hi] / norm
    f0, strength = np.full(len(r), np.nan), np.zeros(len(r))
    energy = 10 * np.log10(np.maximum(norm[:, 0], 1e-12))
    for i, row in enumerate(r):  # one frame at a time, on purpose
        best = int(np.argmax(row))
        s = row[best]
        left, right = row[max(best - 1, 0)], row[min(best + 1, len(row) - 1)]
        denom = left - 2 * s + right
        shift = 0.5 * (left - right) / denom if abs(denom) > 1e-9 else 0.0
        strength[i] = s
        if s > threshold and energy[i] > energy.max() - 35:
            f0[i] = sr / (lo + best + np.clip(shift, -0.5, 0.5))
    return f0, np.clip(strength, 0.0, 1.0)


def stats(m):
    m = np.atleast_2d(m)
    p10, p90 = np.percentile(m, [10, 90], axis=1)
    return np.concatenate([m.mean(axis=1), m.std(axis=1), p10, p90])


def delta(m):
    if m.shape[1] < 9:
        return np.zeros_like(m)
    return scipy.signal.savgol_filter(m, 9, 1, deriv=1, axis=1, mode="interp")


def zero_crossing_rate(y, n_fft, hop, n_frames):
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, (0, n_fft)), n_fft)[::hop]
    return np.mean(np.abs(np.diff(np.sign(frames[:n_frames]), axis=1)) > 0, axis=1)


def spectral_shape(power, freqs):
    total = np.maximum(power.sum(axis=0), 1e-12)
    centroid = (freqs[:, None] * power).sum(axis=0) / total
    bandwidth = np.sqrt(((freqs[:, None] - centroid) ** 2 * power).sum(axis=0) / total)
    rolloff = freqs[np.argmax(np.cumsum(power, axis=0) / total >= 0.85, axis=0)]
    flatness = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (power.mean(axis=0) + 1e-12)
    edges = [0, 250, 500, 1000, 2000, 4000, 8001]
    bands = [power[(freqs >= a) & (freqs < b)].sum(axis=0) for a, b in zip(edges, edges[1:])]
    band_db = 10 * np.log10(np.maximum(np.array(bands), 1e-12))
    return np.vstack([centroid / 1000, bandwidth / 1000, rolloff / 1000,
                      np.log10(flatness + 1e-12), band_db - band_db.mean(axis=0)])


def prosody(n_samples, log_energy, f0, strength):
    voiced = ~np.isnan(f0)
    if voiced.sum() >= 3:
        st = 12 * np.log2(f0[voiced] / 100.0)
        d = np.diff(st)
        p5, p50, p95 = np.percentile(st, [5, 50, 95])
        slope = np.polyfit(np.arange(len(st)), st, 1)[0]
        pitch_feats = [st.mean(), st.std(), p5, p50, p95, p95 - p5, np.abs(d).mean(), d.std(),
                       slope * 100]
    else:
        pitch_feats = [0.0] * 9
    e = log_energy
    runs = np.diff(np.concatenate([[0], voiced.astype(int), [0]]))
    rhythm = [voiced.mean(), (runs == 1).sum() / max(n_samples / SR, 1e-3), strength.mean(),
              e.std(), np.percentile(e, 90) - np.percentile(e, 10), np.abs(np.diff(e)).mean()]
    return np.array(pitch_feats + rhythm)


def tutorial(y, n_fft=2048, hop=512, n_mels=128, n_mfcc=40):
    mag = stft_magnitude(y, n_fft, hop)
    mel = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels) @ mag ** 2
    mfcc = scipy.fft.dct(librosa.power_to_db(mel), axis=0, type=2, norm="ortho")[:n_mfcc]
    chroma = librosa.filters.chroma(sr=SR, n_fft=n_fft, n_chroma=12) @ mag
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    return np.concatenate([mfcc.mean(axis=1), chroma.mean(axis=1), mel.mean(axis=1)])


def default_v1(y, n_fft=512, hop=320, n_mels=64, n_mfcc=20, floor_db=60):
    """The 371 values of feature version 1 (version 2 appends ml/descriptors.py's values)."""
    mag = stft_magnitude(y, n_fft, hop)
    power = np.maximum(mag ** 2, (mag ** 2).max() * 10 ** (-floor_db / 10))
    mag = np.sqrt(power)
    freqs = np.fft.rfftfreq(n_fft, 1 / SR)
    log_mel = 10 * np.log10(np.maximum(librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels)
                                       @ power, 1e-10))
    mfcc = scipy.fft.dct(log_mel, axis=0, type=2, norm="ortho")[:n_mfcc]
    d_mfcc = delta(mfcc)
    dd_mfcc = delta(d_mfcc)
    chroma = librosa.filters.chroma(sr=SR, n_fft=n_fft, n_chroma=12) @ power
    chroma /= np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    log_energy = 10 * np.log10(np.maximum(power.sum(axis=0), 1e-10))
    zcr = zero_crossing_rate(y, n_fft, hop, mag.shape[1])
    rel = log_mel - log_mel.mean(axis=0, keepdims=True)
    f0, strength = pitch_track(halved(y), SR // 2, hop // 2, 320)
    n = min(len(f0), mag.shape[1])
    return np.concatenate([
        stats(mfcc), stats(d_mfcc)[:2 * n_mfcc], stats(dd_mfcc)[:2 * n_mfcc],
        rel.mean(axis=1), rel.std(axis=1), chroma.mean(axis=1), chroma.std(axis=1),
        stats(spectral_shape(power, freqs)), stats(zcr[None, :]),
        prosody(len(y), log_energy, f0[:n], strength[:n]),
    ])
