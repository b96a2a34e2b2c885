"""Speech detection and emotion timelines over untrimmed audio (long uploads and live streams).

A voice-activity detector marks 10 ms frames as speech when their energy is above an absolute
level, well above the recording's noise floor and within DYNAMIC_RANGE_DB of its loud parts.
Windows with too little speech are labelled "silence": the classifier never guesses on them.
"""
import numpy as np

from .audio import MIN_SPEECH_S, SAMPLE_RATE, to_mono_16k
from .errors import AudioError

FRAME_S = 0.025
HOP_S = 0.010
SPEECH_DBFS = -60.0        # a frame quieter than this is never speech
NOISE_MARGIN_DB = 12.0     # ... nor one less than this far above the noise floor
NOISE_PERCENTILE = 10      # the noise floor: this percentile of frame energies
LOUD_PERCENTILE = 99       # the loud parts (robust to a single click): this percentile
DYNAMIC_RANGE_DB = 40.0    # frames this far below the loud parts are breath or background
MAX_GAP_S = 0.2            # pauses shorter than this stay inside one speech region
MIN_REGION_S = 0.15        # sounds shorter than this (clicks, pops) are not speech
MIN_WINDOW_SPEECH_S = max(MIN_SPEECH_S, 0.4)  # a window with less speech is "silence"
SILENCE = "silence"


def frame_energy_db(samples, sample_rate=SAMPLE_RATE):
    """RMS level in dBFS of each FRAME_S frame, one every HOP_S."""
    frame, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    y = np.asarray(samples, dtype=np.float64)
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def speech_threshold_db(noise_db, loud_db=None):
    """Frame level above which a frame counts as speech, given the noise floor and (when known)
    the level of the loud parts."""
    threshold = max(SPEECH_DBFS, noise_db + NOISE_MARGIN_DB)
    return threshold if loud_db is None else max(threshold, loud_db - DYNAMIC_RANGE_DB)


def speech_regions(samples, sample_rate=SAMPLE_RATE, noise_db=None):
    """[(start_s, end_s), ...] of speech, in order; noise_db defaults to this audio's own floor."""
    db = frame_energy_db(samples, sample_rate)
    if noise_db is None:
        noise_db = float(np.percentile(db, NOISE_PERCENTILE))
    loud_db = float(np.percentile(db, LOUD_PERCENTILE))
    active = np.flatnonzero(db > speech_threshold_db(noise_db, loud_db))
    if not len(active):
        return []
    max_gap = int(round(MAX_GAP_S / HOP_S))
    breaks = np.flatnonzero(np.diff(active) > max_gap)
    starts = np.concatenate([[active[0]], active[breaks + 1]])
    ends = np.concatenate([active[breaks], [active[-1]]])
    duration = len(samples) / sample_rate
    regions = []
    for first, last in zip(starts, ends):
        start, end = float(first * HOP_S), float(min(duration, last * HOP_S + FRAME_S))
        if end - start >= MIN_REGION_S:
            regions.append((round(start, 3), round(end, 3)))
    return regions


def speech_seconds(regions, start_s, end_s):
    """How many seconds of the given regions fall inside [start_s, end_s]."""
    return sum(max(0.0, min(end, end_s) - max(start, start_s)) for start, end in regions)


def window_starts(duration_s, window_s, hop_s):
    """Window start times every hop_s; a last window ends exactly at the end of the audio."""
    if duration_s <= window_s:
        return [0.0]
    starts = list(np.arange(0.0, duration_s - window_s + 1e-9, hop_s))
    if starts[-1] + window_s < duration_s - 1e-6:
        starts.append(duration_s - window_s)
    return [round(float(s), 3) for s in starts]


def classify_window(predictor, samples, start_s, end_s, regions, sample_rate=SAMPLE_RATE,
                    adaptation=None):
    """One timeline entry for [start_s, end_s] of 16 kHz samples, given the speech regions
    (adapted to the speaker when adaptation, an ml.speaker.Adaptation, is given)."""
    speech = speech_seconds(regions, start_s, end_s)
    entry = {"start_s": round(start_s, 3), "end_s": round(end_s, 3)}
    if speech >= MIN_WINDOW_SPEECH_S:
        window = samples[int(round(start_s * sample_rate)):int(round(end_s * sample_rate))]
        try:
            prediction = predictor.predict_samples(window, sample_rate, adaptation)
        except AudioError:
            pass  # the classifier's own check found no usable speech: report silence
        else:
            return {**entry, "emotion": prediction.emotion,
                    "confidence": round(prediction.confidence, 4),
                    "probabilities": {k: round(v, 4)
                                      for k, v in prediction.probabilities.items()}}
    quiet = 1.0 - speech / max(end_s - start_s, 1e-9)
    return {**entry, "emotion": SILENCE, "confidence": round(quiet, 4), "probabilities": {}}


def timeline(predictor, samples, sample_rate=SAMPLE_RATE, window_s=3.0, hop_s=1.0,
             adaptation=None):
    """Emotion of each window_s window every hop_s over an UNtrimmed waveform.

    Returns [{"start_s", "end_s", "emotion" (or "silence"), "confidence", "probabilities"}].
    Windows holding less than MIN_WINDOW_SPEECH_S of detected speech are "silence" with empty
    probabilities; their confidence is the fraction of the window without speech.
    Costs one classification (~0.1 s) per window that contains speech.
    """
    if window_s <= 0 or hop_s <= 0:
        raise ValueError("window_s and hop_s must be positive.")
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or sample_rate != SAMPLE_RATE:
        samples = to_mono_16k(samples, sample_rate)
    if not len(samples):
        return []
    duration = len(samples) / SAMPLE_RATE
    regions = speech_regions(samples)
    return [classify_window(predictor, samples, start, min(duration, start + window_s), regions,
                            adaptation=adaptation)
            for start in window_starts(duration, window_s, hop_s)]


def latest(predictor, samples, window_s=2.5, adaptation=None):
    """Timeline entry for the last window_s of 16 kHz samples (a live stream's recent context).

    Speech is detected over all the samples given, so pass a few seconds more than window_s
    for a steadier noise floor. Times are relative to the start of samples.
    """
    samples = np.asarray(samples, dtype=np.float32)
    duration = len(samples) / SAMPLE_RATE
    return classify_window(predictor, samples, max(0.0, duration - window_s), duration,
                           speech_regions(samples), adaptation=adaptation)
