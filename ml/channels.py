"""Transmission channels: telephone band, lossy codecs, added noise, speed and microphone colour.

Every function maps (samples, rate) -> (samples, rate) at ANY input rate and returns float32, so
the same code degrades test clips for `evaluate --channel-test` and augments training clips.
Codecs run in memory through libsndfile (soundfile writes MP3 and OGG/Opus); no ffmpeg needed.
"""
import io

import numpy as np
import scipy.signal
import soundfile as sf
import soxr

MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def _resample(y, rate, new_rate):
    if rate == new_rate:
        return np.asarray(y, dtype=np.float32)
    return soxr.resample(np.asarray(y, dtype=np.float32), rate, new_rate,
                         quality="HQ").astype(np.float32)


def _supported_rate(rate, allowed):
    """The smallest allowed rate >= rate (or the largest allowed one)."""
    above = [r for r in allowed if r >= rate]
    return min(above) if above else max(allowed)


def speech_level_db(y, rate):
    """Active speech level (dBFS) from 25 ms frames within 30 dB of the loudest one."""
    frame, hop = max(1, int(0.025 * rate)), max(1, int(0.010 * rate))
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(y, np.float64), frame)[::hop]
    db = 10 * np.log10(np.maximum(np.mean(frames ** 2, axis=1), 1e-20))
    active = db[db > db.max() - 30]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def telephone(y, rate, mu_law=True):
    """Narrow-band telephone: 8 kHz, 300-3400 Hz band-pass and (optionally) G.711 mu-law."""
    y = _resample(y, rate, 8000)
    sos = scipy.signal.butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    y = scipy.signal.sosfilt(sos, y)
    if mu_law:
        # automatic gain control to a 0.9 peak (as phone networks level speech), then 8-bit
        # G.711 mu-law quantisation
        x = y * (0.9 / max(np.max(np.abs(y)), 1e-9))
        mu = 255.0
        q = np.round((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)) * 127) / 127
        y = np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu
    return y.astype(np.float32), 8000


def band_limit(y, rate, low=100.0, high=4000.0):
    """Band-pass filter at the current rate (cheap microphones, narrow-band recorders)."""
    nyquist = rate / 2
    high = min(high, 0.95 * nyquist)
    sos = scipy.signal.butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
    return scipy.signal.sosfilt(sos, y).astype(np.float32), rate


def _codec(y, rate, fmt, subtype, allowed, compression_level):
    target = _supported_rate(rate, allowed)
    y = _resample(y, rate, target)
    peak = np.max(np.abs(y)) if len(y) else 0.0
    scale = 0.9 / peak if peak > 0.9 else 1.0  # keep the encoder out of clipping
    buf = io.BytesIO()
    sf.write(buf, y * scale, target, format=fmt, subtype=subtype,
             compression_level=compression_level)
    buf.seek(0)
    out, out_rate = sf.read(buf, dtype="float32", always_2d=False)
    if out.ndim > 1:
        out = out.mean(axis=1)
    return (out / scale).astype(np.float32), out_rate


def codec(y, rate, name="mp3", compression_level=0.9):
    """Encode and decode with a lossy codec ("mp3" or "opus") in memory.

    compression_level 0..1 is libsndfile's (higher = lower bit-rate); on RAVDESS speech at 16 kHz
    0.9 gives about 23 kbps MP3 and 30 kbps Opus, 0.95 about 20 kbps MP3 and 19 kbps Opus.
    """
    if name == "mp3":
        return _codec(y, rate, "MP3", "MPEG_LAYER_III", MP3_RATES, compression_level)
    if name == "opus":
        return _codec(y, rate, "OGG", "OPUS", OPUS_RATES, compression_level)
    raise ValueError(f"Unknown codec {name!r}; use 'mp3' or 'opus'.")


def noise(y, rate, snr_db=20.0, color="white", rng=None):
    """Add stationary noise over the whole recording at snr_db below the active speech level.

    color: "white" (flat) or "pink" (-3 dB/octave, closer to room and street noise).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    n = rng.standard_normal(len(y))
    if color == "pink":
        spectrum = np.fft.rfft(n)
        f = np.fft.rfftfreq(len(n), 1 / rate)
        spectrum /= np.sqrt(np.maximum(f, 20.0))
        n = np.fft.irfft(spectrum, n=len(n))
    elif color != "white":
        raise ValueError(f"Unknown noise colour {color!r}.")
    n_db = 10 * np.log10(max(np.mean(n ** 2), 1e-20))
    gain = 10 ** ((speech_level_db(y, rate) - snr_db - n_db) / 20)
    return (y + gain * n).astype(np.float32), rate


def speed(y, rate, factor):
    """Speed perturbation (Kaldi-style): plays factor x faster; pitch and tempo change together."""
    return _resample(y, int(round(rate * factor)), rate), rate


def colour(y, rate, tilt_db_per_octave=0.0, low_cut=0.0):
    """Microphone colour: a spectral tilt around 1 kHz plus an optional high-pass."""
    spectrum = np.fft.rfft(np.asarray(y, np.float64))
    f = np.maximum(np.fft.rfftfreq(len(y), 1 / rate), 1.0)
    gain_db = tilt_db_per_octave * np.log2(f / 1000.0)
    gain_db = np.clip(gain_db, -24, 24)
    spectrum *= 10 ** (gain_db / 20)
    out = np.fft.irfft(spectrum, n=len(y))
    if low_cut > 0:
        sos = scipy.signal.butter(2, low_cut, btype="highpass", fs=rate, output="sos")
        out = scipy.signal.sosfilt(sos, out)
    return out.astype(np.float32), rate


# The fixed test conditions of `evaluate --channel-test` (name -> function of (y, rate)).
TEST_CHANNELS = {
    "telephone": lambda y, r: telephone(y, r),
    "mp3": lambda y, r: codec(y, r, "mp3", 0.9),
    "opus": lambda y, r: codec(y, r, "opus", 0.95),
    "noise": lambda y, r: noise(y, r, 20.0, "white", np.random.default_rng(20)),
}
TEST_CHANNEL_DESCRIPTIONS = {
    "telephone": "8 kHz, 300-3400 Hz band-pass, G.711 mu-law",
    "mp3": "MP3 (libsndfile compression 0.9, ~23 kbps at 16 kHz)",
    "opus": "Opus (libsndfile compression 0.95, ~19 kbps at 16 kHz)",
    "noise": "white noise at 20 dB SNR (re active speech level)",
}
