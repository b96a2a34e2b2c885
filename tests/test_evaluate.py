"""Evaluation: speaker-grouped folds never leak an actor, a tiny grouped-CV run, the channels."""
import json
import os

import numpy as np
import pytest
import scipy.signal
from django.core.management import call_command

from ml import augment, channels, evaluate
from ml.train import DEFAULT_RECIPE, actor_folds, training_rows
from tests.audio_factory import clip_path, ravdess_subset

TINY = DEFAULT_RECIPE.replace(augment="none", n_models=2, hidden=(16,), max_iter=60,
                              gender_hidden=(8,))


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """3 actors x 3 emotions (calm, angry, fearful) x 4 strong clips = 36 clips."""
    return ravdess_subset(tmp_path_factory.mktemp("ravdess_small"), (1, 2, 3),
                          lambda name: name.split("-")[2] in ("02", "05", "06")
                          and name.split("-")[3] == "02")


@pytest.mark.parametrize("n_actors,k", [(20, 5), (24, 6), (24, 5), (7, 3), (2, 2)])
def test_no_actor_on_both_sides_of_a_fold(n_actors, k):
    rng = np.random.default_rng(0)
    actors = rng.permutation(np.repeat(np.arange(1, n_actors + 1), 5))
    tested = np.zeros(len(actors), int)
    for train, test in actor_folds(actors, k):
        assert not set(actors[train]) & set(actors[test])
        assert len(train) + len(test) == len(actors)
        tested[test] += 1
    assert (tested == 1).all()  # every clip is tested exactly once


def test_folds_are_contiguous_actor_groups():
    actors = np.repeat(np.arange(1, 21), 3)
    groups = [sorted(set(actors[test])) for _, test in actor_folds(actors, 5)]
    assert groups == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16],
                      [17, 18, 19, 20]]


def test_cross_validate_fits_only_on_training_actors():
    rng = np.random.default_rng(1)
    actors = np.repeat(np.arange(1, 9), 6)
    X = rng.normal(size=(len(actors), 4))
    y = np.tile(["a", "b", "c"], len(actors) // 3)
    seen = []

    class Spy:
        def predict(self, rows):
            return np.full(len(rows), "a")

    def fit(train):
        seen.append(set(actors[train]))
        return Spy()

    splits = evaluate.make_splits(actors, y, "grouped", 4)
    result = evaluate.cross_validate(X, y, splits, fit)
    for train_actors, (_, test) in zip(seen, splits):
        assert not train_actors & set(actors[test])
    assert np.sum(result["confusion_matrix"]) == len(y)


def test_augmented_copies_of_test_clips_never_reach_training():
    X = np.arange(10, dtype=float)[:, None]
    copies = X + 1000               # copy i belongs to clip i
    copies[3] = np.nan              # a clip whose augmentation failed is dropped
    labels = np.array(list("ababababab"))
    train = np.array([0, 2, 3, 5])
    Xt, yt = training_rows(X, labels, train, [copies])
    assert sorted(Xt[:, 0]) == [0, 2, 3, 5, 1000, 1002, 1005]
    assert len(yt) == len(Xt)


def test_random_protocol_mixes_speakers():
    actors = np.repeat(np.arange(1, 5), 20)
    labels = np.tile(list("abcd"), 20)
    for train, test in evaluate.make_splits(actors, labels, "random", 3):
        assert len(test) == 20 and set(actors[train]) & set(actors[test])


def test_tiny_grouped_run(small_data, tmp_path):
    report = evaluate.run(small_data, folds=3, emotions=("calm", "angry", "fearful"),
                          recipe=TINY, compare_baseline=True, jobs=1,
                          cache_dir=str(tmp_path / "cache"), out_dir=str(tmp_path / "out"),
                          progress=False, log=lambda *_: None, long_clips=2)
    assert report["fold_test_actors"] == [[1], [2], [3]]
    cal = report["calibration"]
    assert cal["clips"] == 36 and len(cal["fold_temperatures"]) == 3
    assert 0 <= cal["ece_after"] <= 1 and sum(b["count"] for b in cal["reliability_after"]) == 36
    long = report["long_clips"]
    assert long["recordings"] == 12 and long["one emotion"]["recordings"] == 6
    assert 4 <= long["mixture"]["clips_per_recording"][0]
    assert os.path.getsize(report["reliability_png"]) > 1000
    emo = report["emotion"]
    assert len(emo["accuracy"]["folds"]) == 3
    assert 0.0 <= emo["accuracy"]["mean"] <= 1.0
    assert set(emo["recall"]) == {"calm", "angry", "fearful"}
    assert np.sum(emo["confusion_matrix"]) == 36
    assert 0.0 <= report["gender"]["accuracy"]["mean"] <= 1.0
    assert "accuracy" in report["baseline"]["emotion"]
    assert os.path.getsize(report["confusion_png"]) > 1000
    with open(report["json"]) as f:
        assert json.load(f)["clips"] == 36
    text = evaluate.format_report(report)
    assert "3-fold grouped by actor" in text and "Baseline" in text and "calm" in text
    assert "Calibration (out-of-fold, 10 bins): ECE" in text and "Long recordings" in text


def test_grid_scores_each_candidate(small_data, tmp_path):
    grid = [{"hidden": (8,), "alpha": 1.0}, {"hidden": (16,), "alpha": 0.1}]
    report = evaluate.run(small_data, folds=3, emotions=("calm", "angry", "fearful"),
                          recipe=TINY, grid=grid, jobs=1, cache_dir=str(tmp_path / "c"),
                          progress=False, log=lambda *_: None)
    assert len(report["grid"]) == 2
    assert "Grid" in evaluate.format_report(report)


def test_evaluate_command(small_data, tmp_path, capsys):
    call_command("evaluate", "--data", small_data, "--folds", "3", "--augment", "none",
                 "--emotions", "calm", "angry", "fearful", "--out", str(tmp_path),
                 "--jobs", "1", "--long-clips", "1")
    out = capsys.readouterr().out
    assert "3 emotions: accuracy" in out and "Gender: accuracy" in out
    assert "ECE" in out and "majority emotion wins" in out
    assert os.path.exists(tmp_path / "reliability_grouped.png")
    assert os.path.exists(tmp_path / "confusion_grouped.png")


def test_evaluate_command_rejects_bad_input(small_data):
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("evaluate", "--data", small_data, "--emotions", "bored", "calm")
    with pytest.raises(CommandError):
        call_command("evaluate", "--data", small_data, "--folds", "1")


def _speech():
    import soundfile as sf
    return sf.read(clip_path(1, 5), dtype="float32")


@pytest.mark.parametrize("name", sorted(channels.TEST_CHANNELS))
def test_test_channels_degrade_but_keep_the_speech(name):
    y, rate = _speech()
    out, out_rate = channels.TEST_CHANNELS[name](y, rate)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert abs(len(out) / out_rate - len(y) / rate) < 0.2

    def envelope(x, r):  # long-term average log spectrum, 300-3400 Hz, 32 Hz resolution
        f, p = scipy.signal.welch(x, r, nperseg=r // 32)
        return 10 * np.log10(p[(f > 300) & (f < 3400)] + 1e-12)
    assert np.corrcoef(envelope(y, rate), envelope(out, out_rate))[0, 1] > 0.8


def test_telephone_is_narrow_band_and_noise_has_the_asked_snr():
    y, rate = _speech()
    tel, tel_rate = channels.telephone(y, rate)
    assert tel_rate == 8000
    spectrum = np.abs(np.fft.rfft(tel)) ** 2
    f = np.fft.rfftfreq(len(tel), 1 / tel_rate)
    assert spectrum[f < 150].sum() < 0.01 * spectrum[(f > 300) & (f < 3400)].sum()
    noisy, _ = channels.noise(y, rate, 20.0)
    snr = channels.speech_level_db(y, rate) - 10 * np.log10(np.mean((noisy - y) ** 2))
    assert abs(snr - 20.0) < 0.5


def test_augmentation_is_deterministic_and_works_at_any_rate():
    y, rate = _speech()
    y8 = channels._resample(y, rate, 8000)
    a, ra = augment.apply("mix", y8, 8000, "abcdef12", 1)
    b, rb = augment.apply("mix", y8, 8000, "abcdef12", 1)
    assert ra == rb and np.array_equal(a, b)
    assert augment.parse_augment("mix*2,speed") == [("mix", 0), ("mix", 1), ("speed", 0)]
    with pytest.raises(ValueError):
        augment.parse_augment("reverb")
