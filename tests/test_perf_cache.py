"""Feature cache: hits by content (not name), misses after a content, configuration or code
change, survives a corrupt entry."""
import shutil
from dataclasses import replace

import numpy as np
import pytest

from ml import extract as ex
from ml import load_audio
from ml.features import extract, get_config
from tests.audio_factory import clip_path


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "a.wav"
    shutil.copy(clip_path(1, 3), path)
    return path, tmp_path / "cache", get_config("default")


def run(paths, config, cache):
    X, ok, errors = ex.extract_files([str(p) for p in paths], config, cache_dir=str(cache),
                                     progress=False)
    assert not errors
    return X


def cached_files(cache):
    return sorted(cache.rglob("*.npy"))


def test_hit_returns_the_stored_vector_even_after_a_rename(setup):
    path, cache, config = setup
    fresh = run([path], config, cache)[0]
    assert np.array_equal(fresh, extract(load_audio(str(path)).samples, config))
    [entry] = cached_files(cache)
    np.save(entry, np.full_like(fresh, 7.0))   # a hit must return exactly what is stored
    assert np.all(run([path], config, cache)[0] == 7.0)
    renamed = path.with_name("renamed.wav")
    path.rename(renamed)
    assert np.all(run([renamed], config, cache)[0] == 7.0)


def test_content_change_is_a_miss(setup):
    path, cache, config = setup
    first = run([path], config, cache)[0]
    np.save(cached_files(cache)[0], np.full_like(first, 7.0))
    shutil.copy(clip_path(2, 4), path)          # same name, other recording
    again = run([path], config, cache)[0]
    assert np.array_equal(again, extract(load_audio(clip_path(2, 4)).samples, config))
    assert len(cached_files(cache)) == 2


def test_configuration_and_version_change_are_misses(setup):
    path, cache, config = setup
    base = run([path], config, cache)
    assert run([path], replace(config, n_mfcc=13), cache).shape[1] != base.shape[1]
    tutorial = run([path], get_config("tutorial"), cache)
    assert tutorial.shape == (1, 180)
    bumped = ex.FeatureCache(str(cache), replace(config, version=config.version + 1)).folder
    assert bumped != ex.FeatureCache(str(cache), config).folder
    assert len({p.parent for p in cached_files(cache)}) == 3


def test_code_change_moves_the_cache(setup, monkeypatch):
    _, cache, config = setup
    before = ex.FeatureCache(str(cache), config).folder
    assert ex.code_fingerprint() in before
    ex.code_fingerprint.cache_clear()
    monkeypatch.setattr(ex, "FEATURE_CODE", ex.FEATURE_CODE[:-1])  # as if the code differed
    try:
        assert ex.FeatureCache(str(cache), config).folder != before
    finally:
        ex.code_fingerprint.cache_clear()


def test_corrupt_entry_is_recomputed(setup):
    path, cache, config = setup
    fresh = run([path], config, cache)[0]
    cached_files(cache)[0].write_bytes(b"not a numpy file")
    assert np.array_equal(run([path], config, cache)[0], fresh)


def test_parallel_extraction_keeps_order_and_reports_failures(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....garbage")
    paths = [clip_path(a, e) for a, e in [(1, 2), (2, 3), (3, 4), (4, 5)]]
    X, ok, errors = ex.extract_files(paths[:2] + [str(bad)] + paths[2:], "default", jobs=2,
                                     cache_dir=None, progress=False)
    assert ok == [0, 1, 3, 4] and list(errors) == [str(bad)]
    for row, p in zip(X, paths):
        assert np.array_equal(row, extract(load_audio(p).samples, "default"))
