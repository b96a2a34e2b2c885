"""Feature vectors: shape, determinism, finiteness, and sensitivity to the input."""
import numpy as np
import pytest

from ml import descriptors, load_audio
from ml.features import FEATURE_SETS, extract
from tests.audio_factory import clip_path


@pytest.fixture(scope="module")
def clips():
    return [load_audio(clip_path(actor, emotion)).samples for actor, emotion in [(1, 5), (2, 2)]]


@pytest.mark.parametrize("name", sorted(FEATURE_SETS))
def test_shape_and_determinism(clips, name):
    a, b = extract(clips[0], name), extract(clips[0], name)
    assert a.ndim == 1 and a.dtype == np.float32 and np.all(np.isfinite(a))
    assert np.array_equal(a, b)
    assert extract(clips[1], name).shape == a.shape
    assert not np.allclose(extract(clips[1], name), a)


def test_tutorial_set_is_180_wide(clips):
    assert extract(clips[0], "tutorial").shape == (180,)


def test_short_input_still_gives_a_vector():
    y = np.random.default_rng(0).normal(0, 0.1, 4800).astype(np.float32)
    for name in FEATURE_SETS:
        assert np.all(np.isfinite(extract(y, name)))


def test_peak_count_matches_scipy_find_peaks():
    """descriptors.count_peaks replaces scipy.signal.find_peaks(x, prominence=p) exactly,
    including flat-topped peaks (plateaus from rounding and repeated samples)."""
    import scipy.signal
    rng = np.random.default_rng(1)
    for i in range(400):
        x = np.round(rng.normal(0, 5, rng.integers(3, 200)).cumsum(), int(rng.integers(0, 3)))
        if i % 3 == 0:
            x = np.repeat(x, rng.integers(1, 4))
        expected = len(scipy.signal.find_peaks(x, prominence=6)[0])
        assert descriptors.count_peaks(x, 6) == expected
