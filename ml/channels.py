"""Transmission channels: telephone band, lossy codecs, added noise, speed and microphone colour.

Every function maps (samples, rate) -> (samples, rate) at ANY input rate and returns float32, so
the same code degrades test clips for `evaluate --channel-test` and augments training clips.
Codecs run in memory: MP3 through libsndfile (soundfile), Opus through libopus in PyAV's FFmpeg
(libsndfile's Opus writer is fixed at the slowest encoder complexity: ~30 ms per second of audio).
"""
import io

import numpy as np
import scipy.fft
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


def mp3(y, rate, compression_level=0.9):
    """Encode and decode MP3 in memory (libsndfile/LAME).

    compression_level 0..1 is libsndfile's (higher = lower bit-rate); on RAVDESS speech at 16 kHz
    0.9 gives about 23 kbps and 0.95 about 20 kbps.
    """
    target = _supported_rate(rate, MP3_RATES)
    y, scale = _headroom(_resample(y, rate, target))
    buf = io.BytesIO()
    sf.write(buf, y, target, format="MP3", subtype="MPEG_LAYER_III",
             compression_level=compression_level)
    buf.seek(0)
    out, out_rate = sf.read(buf, dtype="float32", always_2d=False)
    if out.ndim > 1:
        out = out.mean(axis=1)
    return (out / scale).astype(np.float32), out_rate


def opus(y, rate, kbps=20, complexity=10):
    """Encode and decode Opus in memory (libopus via PyAV) at kbps and encoder complexity 0-10.

    Returns 48 kHz audio, as Opus decoders do, delayed by the codec's 6.5 ms look-ahead.
    """
    import av
    target = _supported_rate(rate, OPUS_RATES)
    y, scale = _headroom(_resample(y, rate, target))
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = target, "mono", "flt"
    encoder.bit_rate = int(kbps * 1000)
    encoder.options = {"compression_level": str(int(complexity))}
    encoder.open()
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = 48000, "mono"
    n = encoder.frame_size
    pcm = np.zeros((1, -(-len(y) // n) * n), dtype=np.float32)
    pcm[0, :len(y)] = y
    out = []
    for start in range(0, pcm.shape[1] + 1, n):  # one 20 ms frame at a time, then a flush
        frame = None
        if start < pcm.shape[1]:
            frame = av.AudioFrame.from_ndarray(pcm[:, start:start + n], format="flt",
                                               layout="mono")
            frame.sample_rate, frame.pts = target, start
        for packet in encoder.encode(frame):
            out += [f.to_ndarray().reshape(-1) for f in decoder.decode(packet)]
    decoded = np.concatenate(out) if out else np.zeros(0, np.int16)
    if decoded.dtype == np.int16:
        decoded = decoded / 32768.0
    return (decoded / scale).astype(np.float32), 48000


def _headroom(y):
    """y scaled to at most 0.9 peak (keeps encoders out of clipping) and the scale used."""
    peak = np.max(np.abs(y)) if len(y) else 0.0
    scale = 0.9 / peak if peak > 0.9 else 1.0
    return y * scale, scale


def noise(y, rate, snr_db=20.0, color="white", rng=None):
    """Add stationary noise over the whole recording at snr_db below the active speech level.

    color: "white" (flat) or "pink" (-3 dB/octave, closer to room and street noise).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    n = rng.standard_normal(len(y))
    if color == "pink":
        size = scipy.fft.next_fast_len(len(n), real=True)  # shaped at a fast FFT length
        spectrum = scipy.fft.rfft(n, n=size)
        f = np.fft.rfftfreq(size, 1 / rate)
        spectrum /= np.sqrt(np.maximum(f, 20.0))
        n = scipy.fft.irfft(spectrum, n=size)[:len(y)]
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
    size = scipy.fft.next_fast_len(len(y), real=True)  # zero-padded to a fast FFT length
    spectrum = scipy.fft.rfft(np.asarray(y, np.float64), n=size)
    f = np.maximum(np.fft.rfftfreq(size, 1 / rate), 1.0)
    gain_db = tilt_db_per_octave * np.log2(f / 1000.0)
    gain_db = np.clip(gain_db, -24, 24)
    spectrum *= 10 ** (gain_db / 20)
    out = scipy.fft.irfft(spectrum, n=size)[:len(y)]
    if low_cut > 0:
        sos = scipy.signal.butter(2, low_cut, btype="highpass", fs=rate, output="sos")
        out = scipy.signal.sosfilt(sos, out)
    return out.astype(np.float32), rate


# The fixed test conditions of `evaluate --channel-test` (name -> function of (y, rate)).
TEST_CHANNELS = {
    "telephone": lambda y, r: telephone(y, r),
    "mp3": lambda y, r: mp3(y, r, 0.9),
    "opus": lambda y, r: opus(y, r, kbps=20),
    "noise": lambda y, r: noise(y, r, 20.0, "white", np.random.default_rng(20)),
}
TEST_CHANNEL_DESCRIPTIONS = {
    "telephone": "8 kHz, 300-3400 Hz band-pass, G.711 mu-law",
    "mp3": "MP3 (libsndfile compression 0.9, ~23 kbps at 16 kHz)",
    "opus": "Opus (libopus, 20 kbps, complexity 10)",
    "noise": "white noise at 20 dB SNR (re active speech level)",
}
