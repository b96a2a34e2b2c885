"""One answer for a recording of any length, built from its speech, and the timeline behind it.

The single code path of uploads, the API, `predict` (CLI), Live "Save to history" and the
timeline (their headline and timeline can never disagree):

1. `plan(samples)`: find speech (ml.vad: Silero inside the energy detector's sound regions) in
   the 16 kHz mono recording. Less than GATE_S of speech is "No speech detected" (AudioError) —
   never an emotion. Speech spanning at most SINGLE_MAX_S (the length of a training clip) is one
   window: the whole recording, trimmed and normalised exactly like a training clip. Longer
   speech is cut into WINDOW_S windows every HOP_S (overlapping) from the first speech to the
   last; a window with less than MIN_WINDOW_SPEECH_S of speech is "silence".
2. `featurise(plan, config)`: one feature row per speech window.
3. `combine(predictor, plan, proba, g_proba, ms)`: the recording's probabilities are the
   speech-duration-weighted mean of its windows' calibrated probabilities (recalibrated by
   LONG_TEMPERATURE when there are several); the timeline is the windows themselves. Times are seconds of the uploaded file (the waveform's clock).

Live mode asks `latest()` for the last few seconds of its stream.
"""
from dataclasses import dataclass, field

import numpy as np

from .audio import SAMPLE_RATE, prepare
from .errors import AudioError
from .features import extract
from .inference import calibrate
from .vad import speech_regions, speech_seconds

GATE_S = 0.25              # a recording with less detected speech is refused (bench/vad.py)
SINGLE_MAX_S = 5.0         # speech spanning up to this is analysed whole, like a training clip
MAX_UTTERANCE_S = 4.0      # longer speech: each utterance up to this long is one window ...
WINDOW_S = 3.0             # ... a longer one is covered by windows of this length ...
HOP_S = 1.5                # ... every HOP_S (half overlapping)
MIN_WINDOW_SPEECH_S = 0.4  # a window with less detected speech is "silence"
JOIN_GAP_S = 0.5           # a shorter bit of speech joins a neighbour at most this far away
CONTEXT_S = 0.1            # a window's audio reaches this far around its speech
SILENCE_GAP_S = 1.0        # pauses at least this long are "silence" entries of the timeline
SILENCE = "silence"
# Temperature of the mean of several windows: fitted on the long synthetic recordings of
# `evaluate` (5-fold grouped, bundled recipe, --long-clips 16: fitted 0.37, cross-fitted ECE 0.049).
LONG_TEMPERATURE = 0.4


@dataclass
class Window:
    """A stretch of the recording: its times (s), detected speech (s) and, until featurised,
    its trimmed and normalised samples (None = silence)."""
    start_s: float
    end_s: float
    speech_s: float
    samples: np.ndarray = field(default=None, repr=False)


@dataclass
class Plan:
    """How a recording is analysed: one window (single) or a timeline of windows."""
    duration_s: float
    windows: list
    single: bool

    @property
    def speech_windows(self):
        """The windows that are classified (they hold speech)."""
        return [w for w in self.windows if w.speech_s > 0]

    @property
    def analysed_s(self):
        """Seconds analysed: the trimmed clip, or the span of the speech windows."""
        if self.single:
            return self.windows[0].end_s - self.windows[0].start_s
        speech = self.speech_windows
        return speech[-1].end_s - speech[0].start_s


def window_starts(first_s, last_s, window_s=WINDOW_S, hop_s=HOP_S):
    """Start times of window_s windows every hop_s covering [first_s, last_s]; the last window
    ends exactly at last_s; no two windows are the same."""
    if last_s - first_s <= window_s:
        return [round(first_s, 3)]
    starts = list(np.arange(first_s, last_s - window_s + 1e-9, hop_s))
    if starts[-1] + window_s < last_s - 1e-6:
        starts.append(last_s - window_s)
    return sorted({round(float(s), 3) for s in starts})


def _no_speech(found_s):
    return AudioError(f"No speech detected: the recording holds {found_s:.1f} s of speech; at "
                      f"least {GATE_S} s is needed (noise, music and tones are not analysed).")


def utterances(regions):
    """[(start_s, end_s)] of the stretches of speech to classify, from speech regions (whose
    pauses under ml.vad.MAX_GAP_S are already joined): a region shorter than
    MIN_WINDOW_SPEECH_S joins the previous one when the pause between them is under JOIN_GAP_S;
    a stretch longer than MAX_UTTERANCE_S becomes WINDOW_S windows every HOP_S."""
    merged = []
    for start, end in regions:
        if merged and start - merged[-1][1] < JOIN_GAP_S and min(
                end - start, merged[-1][1] - merged[-1][0]) < MIN_WINDOW_SPEECH_S:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    spans = []
    for start, end in merged:
        if end - start <= MAX_UTTERANCE_S:
            spans.append((start, end))
        else:
            spans += [(t, round(min(end, t + WINDOW_S), 3)) for t in window_starts(start, end)]
    return spans


def plan(samples):
    """Plan the analysis of a 16 kHz mono recording (raises AudioError without speech)."""
    samples = np.asarray(samples, dtype=np.float32)
    duration = len(samples) / SAMPLE_RATE
    short = duration <= SINGLE_MAX_S
    regions = speech_regions(samples, enough_s=GATE_S if short else None)
    found = speech_seconds(regions)
    if found < GATE_S:
        raise _no_speech(found)
    if short or regions[-1][1] - regions[0][0] <= SINGLE_MAX_S:
        audio = prepare(samples, SAMPLE_RATE)
        return Plan(duration, [Window(0.0, audio.duration_s, found, audio.samples)], True)
    windows, last_end = [], None
    for start, end in utterances(regions):
        if last_end is not None and start - last_end >= SILENCE_GAP_S:
            windows.append(Window(last_end, start, 0.0))
        last_end = end if last_end is None else max(last_end, end)
        speech = speech_seconds(regions, start, end)
        window = Window(start, end, 0.0)
        if speech >= MIN_WINDOW_SPEECH_S:
            cut = samples[int(max(0.0, start - CONTEXT_S) * SAMPLE_RATE):
                          int(min(duration, end + CONTEXT_S) * SAMPLE_RATE)]
            try:
                window = Window(start, end, round(speech, 3), prepare(cut, SAMPLE_RATE).samples)
            except AudioError:
                pass  # the trimmer found no usable speech in it: silence
        windows.append(window)
    if not any(w.speech_s for w in windows):
        raise _no_speech(found)
    return Plan(duration, windows, False)


def featurise(plan, config):
    """Feature rows [speech windows, d] of a plan; drops the windows' samples (the plan stays
    small enough to pass between processes)."""
    rows = [extract(w.samples, config) for w in plan.speech_windows]
    for w in plan.windows:
        w.samples = None
    return np.vstack(rows)


def weighted_mean(proba, weights):
    """Windows' probabilities [n, k] averaged with weights (seconds of speech in each)."""
    weights = np.asarray(weights, dtype=np.float64)
    mean = (np.asarray(proba, dtype=np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
    return mean / mean.sum()


def aggregate(proba, weights):
    """The recording's probabilities from its windows' calibrated probabilities [n, k]: their
    weighted_mean, and for more than one window sharpened by LONG_TEMPERATURE (averaging
    several windows that agree makes an answer more likely right than each window says)."""
    mean = weighted_mean(proba, weights)
    if len(weights) < 2:
        return mean
    return calibrate({"method": "temperature", "temperature": LONG_TEMPERATURE}, mean[None])[0]


def combine(predictor, plan, proba, g_proba, processing_ms, adaptation=None):
    """(Prediction of the whole recording, timeline entries) from the calibrated probabilities
    of the plan's speech windows (rows in order). The timeline is empty for a single window.
    adaptation: how the probabilities were adapted to the speaker (reported as is)."""
    speech = plan.speech_windows
    weights = [w.speech_s for w in speech]
    prediction = predictor.make_prediction(aggregate(proba, weights), aggregate(g_proba, weights),
                                           plan.analysed_s, processing_ms, adaptation)
    if plan.single:
        return prediction, []
    rows = iter(range(len(speech)))
    emotions = predictor.artifact.emotions
    timeline = []
    for w in plan.windows:
        entry = {"start_s": w.start_s, "end_s": w.end_s, "speech_s": w.speech_s}
        if w.speech_s:
            p = proba[next(rows)]
            best = int(np.argmax(p))
            entry.update(emotion=emotions[best], confidence=round(float(p[best]), 4),
                         probabilities={c: round(float(v), 4) for c, v in zip(emotions, p)})
        else:
            entry.update(emotion=SILENCE, confidence=1.0, probabilities={})
        timeline.append(entry)
    return prediction, timeline


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


def latest(predictor, samples, window_s=2.5, adaptation=None):
    """Timeline entry for the last window_s of 16 kHz samples (a live stream's recent context),
    adapted to the speaker when adaptation is given.

    The energy detector's noise floor comes from all the samples given (pass a few seconds more
    than window_s); Silero scores only the sound near the last window_s. Times are relative to
    the start of samples.
    """
    samples = np.asarray(samples, dtype=np.float32)
    duration = len(samples) / SAMPLE_RATE
    start = max(0.0, duration - window_s)
    return classify_window(predictor, samples, start, duration,
                           speech_regions(samples, within=(start, duration)),
                           adaptation=adaptation)
