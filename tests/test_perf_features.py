"""The fast feature path (ml/features.py, ml/pitch.py, ml/descriptors.py, ml/audio.py trimming)
gives the same numbers as straightforward reference code (tests/perf_reference.py)."""
from dataclasses import replace

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from ml import arrays, audio, descriptors, features, load_audio, pitch
from ml.features import FEATURE_SETS, extract
from tests import perf_reference as ref
from tests.audio_factory import clip_path


@pytest.fixture(scope="module")
def clips():
    """Three real trimmed clips (male/female, calm/angry/happy) and a short noise burst."""
    ys = [load_audio(clip_path(a, e)).samples for a, e in [(1, 5), (2, 2), (11, 3)]]
    return ys + [np.random.default_rng(0).normal(0, 0.1, 4800).astype(np.float32)]


def close(fast, slow, rtol=2e-3, floor=1e-2):
    """Relative agreement, with an absolute floor for values near zero."""
    fast, slow = np.asarray(fast, np.float64), np.asarray(slow, np.float64)
    assert fast.shape == slow.shape
    bad = np.abs(fast - slow) > rtol * np.maximum(np.abs(slow), floor)
    assert not bad.any(), f"{bad.sum()} values differ, e.g. index {np.flatnonzero(bad)[:5]}"


@pytest.mark.parametrize("n_fft,n_mels", [(512, 64), (2048, 128)])
def test_filterbanks_equal_librosa(n_fft, n_mels):
    np.testing.assert_allclose(features.mel_filterbank(16000, n_fft, n_mels),
                               librosa.filters.mel(sr=16000, n_fft=n_fft, n_mels=n_mels),
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(features.chroma_filterbank(16000, n_fft),
                               librosa.filters.chroma(sr=16000, n_fft=n_fft, n_chroma=12),
                               rtol=1e-5, atol=1e-8)


def test_helpers_equal_their_scipy_numpy_definitions(clips):
    rng = np.random.default_rng(1)
    m = rng.normal(size=(5, 40))
    np.testing.assert_allclose(features._delta(m), ref.delta(m), atol=1e-12)
    np.testing.assert_allclose(arrays.percentiles(m, (10, 50, 90)),
                               np.percentile(m, [10, 50, 90], axis=1).T, atol=1e-12)
    x = rng.normal(size=50)
    np.testing.assert_allclose(descriptors._smooth(x), scipy.signal.savgol_filter(x, 9, 2),
                               atol=1e-10)
    assert descriptors._slope(x) == pytest.approx(np.polyfit(np.arange(50), x, 1)[0])
    freqs = np.fft.rfftfreq(512, 1 / 16000)
    s = descriptors._bins(freqs, 1000, 5000)
    assert np.array_equal(np.flatnonzero((freqs >= 1000) & (freqs < 5000)),
                          np.arange(s.start, s.stop))
    y = clips[0]
    n = len(y) // 160 + 1
    np.testing.assert_array_equal(features._zero_crossing_rate(y, 512, 160, n),
                                  ref.zero_crossing_rate(y, 512, 160, n))


def test_stft_and_spectral_shape(clips):
    mx = features._matrices(512, 64, 20)
    for y in clips:
        power = features._stft_power(y, 512, 160, mx.window)
        slow = ref.stft_magnitude(y, 512, 160) ** 2
        np.testing.assert_allclose(power, slow, rtol=1e-3, atol=1e-6 * slow.max())
        close(features._spectral_shape(power, mx, power.sum(axis=0)),
              ref.spectral_shape(slow, mx.freqs))


def test_pitch_track_matches_full_autocorrelation(clips):
    for y in clips:
        f0, strength = pitch.track(y, 16000)  # halves the rate to 8 kHz first
        f0_ref, strength_ref = ref.pitch_track(ref.halved(y), 8000, 80, 320)
        assert np.array_equal(np.isnan(f0), np.isnan(f0_ref))
        np.testing.assert_allclose(f0[~np.isnan(f0)], f0_ref[~np.isnan(f0_ref)], rtol=1e-4)
        np.testing.assert_allclose(strength, strength_ref, atol=1e-4)


def test_feature_vectors_match_reference(clips):
    v1 = replace(FEATURE_SETS["default"], version=1)
    for y in clips:
        close(extract(y, v1), ref.default_v1(y))
        close(extract(y, "tutorial"), ref.tutorial(y))
        v2 = extract(y, "default")
        assert len(v2) == 371 + descriptors.size(20) and np.all(np.isfinite(v2))
        close(v2[:371], ref.default_v1(y))


def test_trimming_levels_equal_framewise_rms():
    y, _ = sf.read(clip_path(3, 4), dtype="float32")
    levels = arrays.frame_levels_db(y, audio.FRAME, audio.HOP)
    np.testing.assert_allclose(levels, ref.frame_rms_db(y), atol=1e-9)
    # chunked summation (chunk boundaries inside frames) gives the same levels
    np.testing.assert_allclose(arrays.frame_levels_db(y, audio.FRAME, audio.HOP, chunk=1000),
                               levels, atol=1e-9)
    short = np.ones(100, np.float32) * 0.1
    np.testing.assert_allclose(arrays.frame_levels_db(short, audio.FRAME, audio.HOP),
                               ref.frame_rms_db(short), atol=1e-9)
