"""A generated corpus of sounds that are not speech, to measure and test the speech gate.

Noise (white, pink, brown; steady at three levels and in bursts), pure and swept tones, chirps,
clicks, DTMF, mains hum and music-like signals (chords with a rhythm, an arpeggio, a drum
pattern, a melody with vibrato). Deterministic (fixed seeds); 16 kHz mono float32.
"""
import numpy as np

from .audio import SAMPLE_RATE

DURATION_S = 4.0
LEVELS_DBFS = (-45.0, -30.0, -15.0)


def _t(seconds=DURATION_S):
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _level(y, dbfs):
    rms = np.sqrt(np.mean(np.square(y))) or 1.0
    return (y * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def _coloured(n, exponent, rng):
    """Noise with power spectrum 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[1:] /= f[1:] ** (exponent / 2)
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n)


def _gated(y, on_s, off_s, fade_s=0.01):
    """y switched on for on_s and off for off_s, repeatedly (with short fades)."""
    t = _t(len(y) / SAMPLE_RATE)
    phase = t % (on_s + off_s)
    gate = np.clip(np.minimum(phase, on_s - phase) / fade_s, 0, 1) * (phase < on_s)
    return y * gate


def _note(freq, seconds, harmonics=6, decay=3.0):
    t = _t(seconds)
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k ** 1.5 for k in range(1, harmonics + 1))
    return tone * np.exp(-decay * t) * np.clip(t / 0.005, 0, 1)


def _sequence(notes, beat_s, total_s=DURATION_S):
    """Notes (lists of frequencies = chords) one per beat, looped to total_s."""
    out = np.zeros(int(total_s * SAMPLE_RATE))
    step = int(beat_s * SAMPLE_RATE)
    for i, start in enumerate(range(0, len(out), step)):
        chord = notes[i % len(notes)]
        sound = sum(_note(f, beat_s) for f in chord)
        out[start:start + step] += sound[:len(out) - start]
    return out


def _dtmf(digits="5551234098", tone_s=0.12, gap_s=0.08):
    rows, cols = (697, 770, 852, 941), (1209, 1336, 1477)
    keys = "123456789*0#"
    parts = []
    for d in digits:
        i = keys.index(d)
        t = _t(tone_s)
        parts += [np.sin(2 * np.pi * rows[i // 3] * t) + np.sin(2 * np.pi * cols[i % 3] * t),
                  np.zeros(int(gap_s * SAMPLE_RATE))]
    y = np.concatenate(parts)
    return np.pad(y, (int(0.5 * SAMPLE_RATE), 0))[:int(DURATION_S * SAMPLE_RATE)]


def _clicks(rate_hz, rng=None):
    y = np.zeros(int(DURATION_S * SAMPLE_RATE))
    if rng is None:
        y[::int(SAMPLE_RATE / rate_hz)] = 1.0
    else:
        y[rng.choice(len(y), int(rate_hz * DURATION_S), replace=False)] = 1.0
    return np.convolve(y, np.exp(-np.arange(80) / 10.0) * np.sign(np.sin(np.arange(80))))[:len(y)]


def corpus():
    """{name: 16 kHz float32 samples} of the non-speech test sounds."""
    rng = np.random.default_rng(1234)
    n = int(DURATION_S * SAMPLE_RATE)
    t = _t()
    sounds = {}
    for colour, exponent in (("white", 0), ("pink", 1), ("brown", 2)):
        noise = _coloured(n, exponent, rng)
        for level in LEVELS_DBFS:
            sounds[f"{colour} noise {level:.0f} dBFS"] = _level(noise, level)
        sounds[f"{colour} noise bursts"] = _level(_gated(noise, 0.8, 0.7), -25)
    for freq in (100, 440, 1000, 3000):
        sounds[f"tone {freq} Hz"] = _level(np.sin(2 * np.pi * freq * t), -20)
    sounds["tone 440 Hz beeps"] = _level(_gated(np.sin(2 * np.pi * 440 * t), 0.5, 0.5), -20)
    sweep = np.sin(2 * np.pi * 100 * DURATION_S / np.log(40) * (40 ** (t / DURATION_S) - 1))
    sounds["sweep 100-4000 Hz"] = _level(sweep, -20)
    chirp_t = t % 0.5
    sounds["chirps"] = _level(_gated(np.sin(2 * np.pi * (300 + 6000 * chirp_t) * chirp_t),
                                     0.25, 0.25), -20)
    sounds["clicks 2/s"] = _level(_clicks(2), -30)
    sounds["clicks 10/s"] = _level(_clicks(10), -30)
    sounds["random clicks"] = _level(_clicks(6, rng), -30)
    sounds["DTMF digits"] = _level(_dtmf(), -20)
    hums = {mains: sum(np.sin(2 * np.pi * mains * k * t) / k for k in range(1, 8))
            for mains in (50, 60)}
    for mains, hum in hums.items():
        sounds[f"hum {mains} Hz"] = _level(hum, -25)
    sounds["hum 50 Hz with noise"] = _level(hums[50] + 0.3 * _coloured(n, 1, rng), -25)
    c, f, g, a = (261.6, 329.6, 392.0), (349.2, 440.0, 523.3), (392.0, 493.9, 587.3), \
        (220.0, 261.6, 329.6)
    sounds["chords, 120 bpm"] = _level(_sequence([c, f, g, c], 0.5), -20)
    sounds["chords, 90 bpm, low"] = _level(_sequence([a, f, c, g], 0.667), -20)
    sounds["arpeggio"] = _level(_sequence([[x] for x in (261.6, 329.6, 392.0, 523.3)], 0.2),
                                -20)
    kick = np.sin(2 * np.pi * 60 * _t(0.3)) * np.exp(-12 * _t(0.3))
    snare = _coloured(int(0.2 * SAMPLE_RATE), 0, rng) * np.exp(-20 * _t(0.2))
    drums = np.zeros(n)
    for i, start in enumerate(range(0, n, int(0.25 * SAMPLE_RATE))):
        hit = (kick, np.zeros(1), snare, np.zeros(1))[i % 4]
        drums[start:start + len(hit)] += hit[:n - start]
    sounds["drum pattern"] = _level(drums, -20)
    sounds["chords with drums"] = _level(_sequence([c, f, g, c], 0.5) / 3 + drums, -20)
    vibrato = 2 * np.pi * np.cumsum(440 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))) / SAMPLE_RATE
    melody = sum(np.sin(k * vibrato) / k ** 2 for k in range(1, 6))
    sounds["flute-like tone with vibrato"] = _level(_gated(melody, 0.9, 0.1), -20)
    return sounds
