"""Fast, vectorised pitch tracking by normalised autocorrelation (no per-frame Python loops)."""
import numpy as np

FMIN, FMAX = 60.0, 500.0
VOICING_THRESHOLD = 0.5


def track(y, sr, hop=160, frame=640):
    """Return (f0 in Hz with NaN where unvoiced, periodicity 0..1) per hop of y."""
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    n_fft = 1 << int(np.ceil(np.log2(2 * frame)))
    spec = np.fft.rfft(frames * np.hanning(frame), n=n_fft)
    acf = np.fft.irfft(np.abs(spec) ** 2, n=n_fft)[:, :frame]
    window_acf = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(frame), n=n_fft)) ** 2)[:frame]
    acf = acf / np.maximum(window_acf, 1e-9)  # undo the window's taper bias
    lo, hi = int(sr / FMAX), min(int(sr / FMIN), frame // 2)
    norm = np.maximum(acf[:, :1], 1e-12)
    r = acf[:, lo:hi] / norm
    best = np.argmax(r, axis=1)
    strength = r[np.arange(len(r)), best]
    # parabolic interpolation around the peak for sub-sample lag accuracy
    left = r[np.arange(len(r)), np.maximum(best - 1, 0)]
    right = r[np.arange(len(r)), np.minimum(best + 1, r.shape[1] - 1)]
    denom = left - 2 * strength + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / denom, 0.0)
    shift = np.nan_to_num(shift)
    lag = lo + best + np.clip(shift, -0.5, 0.5)
    energy = 10 * np.log10(np.maximum(norm[:, 0], 1e-12))
    voiced = (strength > VOICING_THRESHOLD) & (energy > energy.max() - 35)
    f0 = np.where(voiced, sr / lag, np.nan)
    return f0, np.clip(strength, 0.0, 1.0)
