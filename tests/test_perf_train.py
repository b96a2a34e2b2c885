"""Training speed machinery: parallel CV folds give the serial results; fits are memoised by
(rows, labels, recipe, seed) so an unchanged re-run loads them and any change refits."""
import numpy as np
import pytest

from ml import fitcache
from ml.train import DEFAULT_RECIPE, grouped_score, load_features, train
from tests.audio_factory import ravdess_subset

RECIPE = DEFAULT_RECIPE.replace(augment="none", n_models=2, hidden=(32,), max_iter=30,
                                gender_hidden=(8,))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three actors (file symlinks in RAVDESS layout) and their cached features."""
    root = tmp_path_factory.mktemp("ravdess")
    ravdess_subset(root, (1, 2, 3), lambda name: int(name.split("-")[4]) == 1
                   and int(name.split("-")[5]) == 1)
    cache = tmp_path_factory.mktemp("cache")
    return root, cache, load_features(str(root), cache_dir=str(cache), progress=False)


def fit_files(cache):
    return sorted((cache / "fits").glob("*.joblib")) if (cache / "fits").exists() else []


def test_parallel_folds_equal_serial(corpus):
    _, _, data = corpus
    serial = grouped_score(data, folds=3, recipe=RECIPE, jobs=1)
    parallel = grouped_score(data, folds=3, recipe=RECIPE, jobs=2)
    assert parallel == serial


def test_fits_are_memoised_and_invalidated(corpus, tmp_path):
    root, cache, _ = corpus
    first = train(str(root), str(tmp_path / "a.pkl"), folds=2, cache_dir=str(cache),
                  progress=False, log=lambda *_: None, recipe=RECIPE, jobs=2)
    stored = fit_files(cache)
    assert len(stored) == 6  # (1 scored fold + final) x (emotion, gender, speaker-adapted)
    stamps = {p: p.stat().st_mtime_ns for p in stored}
    again = train(str(root), str(tmp_path / "b.pkl"), folds=2, cache_dir=str(cache),
                  progress=False, log=lambda *_: None, recipe=RECIPE, jobs=2)
    assert {p: p.stat().st_mtime_ns for p in fit_files(cache)} == stamps  # loaded, not refit
    assert again.metadata["evaluation"] == first.metadata["evaluation"]
    x = np.random.default_rng(0).normal(size=(3, first.metadata["n_features"])).astype(np.float32)
    assert np.array_equal(again.emotion_model.predict_proba(x),
                          first.emotion_model.predict_proba(x))
    train(str(root), str(tmp_path / "c.pkl"), folds=2, cache_dir=str(cache), seed=1,
          progress=False, log=lambda *_: None, recipe=RECIPE, jobs=1)
    assert len(fit_files(cache)) == 12  # another seed: every fit is new


def test_fit_key_depends_on_rows_labels_and_spec():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = ["a", "b", "a", "b"]
    key = fitcache.fit_key(X, y, {"seed": 0})
    assert key == fitcache.fit_key(X.copy(), list(y), {"seed": 0})
    assert key != fitcache.fit_key(X + 1, y, {"seed": 0})
    assert key != fitcache.fit_key(X, ["a", "a", "b", "b"], {"seed": 0})
    assert key != fitcache.fit_key(X, y, {"seed": 1})
