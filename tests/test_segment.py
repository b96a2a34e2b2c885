"""Speech detection and the analysis of long recordings on real RAVDESS clips joined with
silences."""
import numpy as np
import pytest
import soundfile as sf
import soxr

from ml import AudioError, Predictor, load_audio
from ml.segment import (GATE_S, LONG_TEMPERATURE, SILENCE, aggregate, latest, plan, utterances,
                        weighted_mean, window_starts)
from ml.vad import (CHUNK_S, LOWERED, frame_energy_db, lowered_opinion, speech_chunks,
                    speech_regions, speech_seconds)
from tests.audio_factory import clip_path

CLIPS = [(3, 5), (8, 7), (15, 3)]  # (actor, emotion): angry, disgust, happy
GAP_S = 2.0
NOISE_DBFS = -70.0
ONSET_TOLERANCE_S = 0.25  # Silero calls soft onsets up to ~0.2 s late
END_TOLERANCE_S = 0.3  # sentence endings fade out slowly, so where they stop is less sharp


@pytest.fixture(scope="module")
def predictor():
    return Predictor.from_path()


def loud_extent(y, rate=16000):
    """Ground truth of a clean clip: first and last frame within 30 dB of its loudest frame."""
    db = frame_energy_db(y, rate)
    loud = np.flatnonzero(db > db.max() - 30)
    return loud[0] * 0.01, loud[-1] * 0.01 + 0.025


@pytest.fixture(scope="module")
def joined():
    """Three clips separated (and surrounded) by 2 s of faint noise; with true speech spans."""
    rng = np.random.default_rng(0)
    parts, truth, t = [], [], 0.0
    for actor, emotion in CLIPS:
        y, rate = sf.read(clip_path(actor, emotion), dtype="float32")
        assert rate == 16000
        noise = rng.normal(0, 10 ** (NOISE_DBFS / 20), int(GAP_S * rate)).astype(np.float32)
        parts += [noise, y]
        start, end = loud_extent(y)
        truth.append((t + GAP_S + start, t + GAP_S + end))
        t += GAP_S + len(y) / rate
    parts.append(rng.normal(0, 10 ** (NOISE_DBFS / 20), int(GAP_S * 16000)).astype(np.float32))
    return np.concatenate(parts), truth


def test_speech_regions_match_the_clips(joined):
    samples, truth = joined
    regions = speech_regions(samples)
    assert len(regions) == len(truth)
    for (start, end), (true_start, true_end) in zip(regions, truth):
        assert abs(start - true_start) < ONSET_TOLERANCE_S
        assert abs(end - true_end) < END_TOLERANCE_S


def test_regions_survive_another_rate(joined):
    samples, truth = joined
    resampled = soxr.resample(samples, 16000, 44100).astype(np.float32)
    regions = speech_regions(resampled, 44100)
    assert [s for s, _ in regions] == pytest.approx([s for s, _ in truth], abs=ONSET_TOLERANCE_S)


@pytest.mark.parametrize("actor, emotion, statement", [(6, 3, 1), (6, 6, 1), (18, 5, 2)])
def test_screams_are_speech(actor, emotion, statement):
    # strong-intensity screams that Silero's 16 kHz model misses; heard slowed and lowered they
    # are speech
    path = clip_path(actor, emotion, intensity=2, statement=statement)
    samples = sf.read(path, dtype="float32")[0]
    assert speech_chunks(samples)[0].sum() * CHUNK_S < GATE_S
    assert lowered_opinion(samples).sum() * CHUNK_S / LOWERED >= GATE_S
    assert speech_seconds(speech_regions(samples, enough_s=GATE_S)) >= GATE_S


def test_silence_is_never_speech():
    rng = np.random.default_rng(1)
    assert speech_regions(np.zeros(48000, np.float32)) == []
    hum = 0.01 * np.sin(2 * np.pi * 50 * np.arange(48000) / 16000) + rng.normal(0, 0.003, 48000)
    assert speech_regions(hum.astype(np.float32)) == []  # steady noise at -40 dBFS


def test_long_recording_is_analysed_utterance_by_utterance(joined, predictor):
    samples, truth = joined
    prediction, entries = predictor.analyse(samples)
    starts = [e["start_s"] for e in entries]
    assert starts == sorted(set(starts))                         # no window twice
    spoken = [e for e in entries if e["emotion"] != SILENCE]
    assert len(spoken) == len(truth)                             # one window per sentence ...
    for entry, (start, end) in zip(spoken, truth):               # ... where it was said
        assert entry["start_s"] == pytest.approx(start, abs=ONSET_TOLERANCE_S)
        assert entry["end_s"] == pytest.approx(end, abs=END_TOLERANCE_S)
    assert [e["emotion"] for e in entries[1::2]] == [SILENCE] * (len(truth) - 1)  # the pauses
    emotions = set(predictor.artifact.emotions)
    for entry in entries:
        speech = sum(max(0, min(e + END_TOLERANCE_S, entry["end_s"])
                         - max(s - ONSET_TOLERANCE_S, entry["start_s"])) for s, e in truth)
        if speech == 0:
            assert entry["emotion"] == SILENCE and entry["probabilities"] == {}
            assert entry["speech_s"] == 0
        elif speech >= 1.5:
            assert entry["emotion"] in emotions and entry["speech_s"] > 1
            assert sum(entry["probabilities"].values()) == pytest.approx(1, abs=1e-3)
            assert entry["confidence"] == max(entry["probabilities"].values())
    assert sum(e["emotion"] == SILENCE for e in entries) >= 1
    # the headline IS the speech-weighted mean of the windows
    spoken = [e for e in entries if e["emotion"] != SILENCE]
    expected = aggregate([[e["probabilities"][c] for c in predictor.artifact.emotions]
                          for e in spoken], [e["speech_s"] for e in spoken])
    assert [prediction.probabilities[c] for c in predictor.artifact.emotions] == \
        pytest.approx(expected, abs=1e-3)
    assert prediction.duration_s == pytest.approx(entries[-1]["end_s"] - starts[0], abs=1e-3)


def test_utterances_split_long_speech_and_join_scraps():
    assert utterances([(1.0, 2.5), (2.8, 3.0), (4.0, 9.0)]) == [
        (1.0, 3.0), (4.0, 7.0), (5.5, 8.5), (6.0, 9.0)]
    assert utterances([(0.0, 2.0), (3.0, 3.2)]) == [(0.0, 2.0), (3.0, 3.2)]  # too far to join


def test_a_single_clip_is_one_window_analysed_like_training(predictor):
    path = clip_path(3, 5)
    y, rate = sf.read(path, dtype="float32")
    prediction, entries = predictor.analyse(y)
    assert entries == []
    assert len(plan(y).windows) == 1
    expected = predictor.predict_audio(load_audio(path))
    assert prediction.emotion == expected.emotion
    assert prediction.probabilities == pytest.approx(expected.probabilities, abs=1e-6)


def test_predict_samples_matches_load_audio(predictor):
    path = clip_path(8, 7)
    y, rate = sf.read(path, dtype="float32")
    a = predictor.predict_samples(y, rate)
    b = predictor.predict_audio(load_audio(path))
    assert a.emotion == b.emotion and a.probabilities == pytest.approx(b.probabilities, rel=1e-4)
    with pytest.raises(AudioError):
        predictor.predict_samples(np.zeros(16000, np.float32))


def test_short_and_silent_inputs(predictor):
    for samples in (np.zeros(0, np.float32), np.zeros(8000, np.float32),
                    np.zeros(160000, np.float32)):
        with pytest.raises(AudioError, match="No speech detected"):
            predictor.analyse(samples)
    entry = latest(predictor, np.zeros(48000, np.float32))
    assert entry == {"start_s": 0.5, "end_s": 3.0, "emotion": SILENCE, "confidence": 1.0,
                     "probabilities": {}}


def test_window_starts_cover_the_speech_once():
    assert window_starts(1.0, 3.0) == [1.0]
    assert window_starts(0.0, 5.5) == [0.0, 1.5, 2.5]
    assert window_starts(0.0, 6.0) == [0.0, 1.5, 3.0]
    assert window_starts(0.5, 30.51) == sorted(set(window_starts(0.5, 30.51)))
    assert window_starts(0.5, 30.51)[-1] == pytest.approx(27.51)


def test_aggregate_weights_windows_by_their_speech_then_sharpens():
    assert weighted_mean([[1.0, 0.0], [0.0, 1.0]], [3.0, 1.0]) == pytest.approx([0.75, 0.25])
    sharp = np.array([0.75, 0.25]) ** (1 / LONG_TEMPERATURE)
    assert aggregate([[1.0, 0.0], [0.0, 1.0]], [3.0, 1.0]) == pytest.approx(sharp / sharp.sum())
    assert aggregate([[0.6, 0.4]], [2.0]) == pytest.approx([0.6, 0.4])   # one window: as is
