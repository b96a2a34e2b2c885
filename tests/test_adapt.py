"""Speaker adaptation: statistics, the adapted model in the artifact, profiles, the CLI and the
enrolment-curve evaluation, on real RAVDESS clips through the real pipeline."""
import json
import os

import numpy as np
import pytest

from ml import Predictor, adapt, adapt_eval, cli, load_audio
from ml import artifact as artifact_io
from ml.speaker import (Adaptation, ProfileError, SpeakerStats, adapted_proba, load_profile,
                        normalise, reference, save_profile)
from ml.train import DEFAULT_RECIPE, train
from tests.audio_factory import clip_path, ravdess_subset

QUICK = DEFAULT_RECIPE.replace(augment="none", n_models=1)


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    """Actors 01-04, all 8 emotions (60 clips each)."""
    return ravdess_subset(tmp_path_factory.mktemp("ravdess"), range(1, 5))


@pytest.fixture(scope="module")
def model_path(subset, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m.pkl"
    train(subset, str(out), folds=2, cache_dir=str(tmp_path_factory.mktemp("cache")),
          progress=False, log=lambda *_: None, recipe=QUICK)
    return str(out)


def test_running_statistics_equal_batch_statistics():
    X = np.random.default_rng(1).normal(3, 2, size=(40, 5))
    one_by_one = SpeakerStats(5)
    for row in X:
        one_by_one.add(row, 1.5)
    halves = SpeakerStats.of(X[:13], 10).merged(SpeakerStats.of(X[13:], 50))
    for stats in (one_by_one, halves):
        np.testing.assert_allclose(stats.mean, X.mean(axis=0))
        np.testing.assert_allclose(stats.std, X.std(axis=0))
        assert stats.count == 40
    assert one_by_one.seconds == pytest.approx(60) and halves.seconds == pytest.approx(60)
    again = SpeakerStats.from_dict(json.loads(json.dumps(halves.to_dict())))
    np.testing.assert_allclose(again.std, halves.std)
    with pytest.raises(ProfileError, match="holds 5"):
        SpeakerStats(5).add(np.zeros((2, 4)))


def test_shrinkage_toward_the_population():
    population = {"mean": np.zeros(3), "within_std": np.ones(3), "prior_clips": 2.0,
                  "min_scale_clips": 4}
    centre, scale = reference(None, population)
    assert (centre == 0).all() and (scale == 1).all()
    two = SpeakerStats.of([[3, 3, 3], [3, 3, 3]])  # 2 clips vs 2 pseudo-clips: halfway
    centre, scale = reference(two, population)
    np.testing.assert_allclose(centre, 1.5)
    np.testing.assert_allclose(scale, 1.0)      # too few clips: the population's spread
    many = SpeakerStats.of(np.random.default_rng(0).normal(10, 3, size=(400, 3)))
    centre, scale = reference(many, population)
    np.testing.assert_allclose(centre, 10, atol=0.5)
    np.testing.assert_allclose(scale, 3, atol=0.3)
    z = normalise([[10, 10, 10]], many, dict(population, keep_absolute=True))
    assert z.shape == (1, 6) and np.allclose(z[0, :3], 10) and np.allclose(z[0, 3:], 0, atol=0.3)


def test_profile_files_hold_statistics_only(tmp_path):
    stats = SpeakerStats.of(np.ones((3, 4)), 4.5, feature_key="k")
    save_profile(stats, tmp_path / "p.json", "Ann")
    data = json.loads((tmp_path / "p.json").read_text())
    assert set(data) == {"format", "feature_key", "dim", "count", "seconds", "mean", "m2", "name"}
    loaded, name = load_profile(tmp_path / "p.json")
    assert name == "Ann" and loaded.count == 3 and loaded.seconds == 4.5
    (tmp_path / "bad.json").write_text("[1, 2]")
    for bad in ("bad.json", "missing.json"):
        with pytest.raises(ProfileError):
            load_profile(tmp_path / bad)
    with pytest.raises(ProfileError, match="invalid"):
        SpeakerStats.from_dict(dict(data, m2=[-1.0] * 4))


def test_adapted_model_in_the_artifact(model_path):
    """The artifact holds the adapted model; its numpy form gives the scikit-learn result."""
    artifact = artifact_io.load(model_path)
    assert artifact.metadata["adaptation"]["recipe"]["blend"] > 0
    assert artifact.calibration_form("adapted")["temperature"] > 0   # calibrated like the rest
    assert 0 <= artifact.metadata["calibration"]["adapted"]["accuracy"] <= 1
    adapted = artifact.adapted_model
    X = np.random.default_rng(0).normal(size=(8, artifact.metadata["n_features"]))
    stats = SpeakerStats.of(X[:5] + 1)
    generic = artifact.emotion_model.predict_proba(X)
    own = adapted.pipeline.predict_proba(adapted.normalizer.transform(X, stats))
    expected = own ** adapted.blend * generic ** (1 - adapted.blend)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(adapted_proba(artifact.inference["adapted"], X, stats, generic),
                               expected, rtol=1e-4, atol=1e-4)


def test_predictor_adapts_only_with_statistics(model_path):
    predictor = Predictor.from_path(model_path)
    assert predictor.can_adapt
    stats = predictor.new_stats()
    for emotion in (1, 2, 3):
        vector = predictor.features(load_audio(clip_path(3, emotion, 1)))
        stats.add(vector, 2.0)
    generic = predictor.predict_file(clip_path(3, 5))
    assert generic.adaptation is None
    assert predictor.predict_file(clip_path(3, 5), Adaptation(predictor.new_stats())) \
        .adaptation is None  # no clips yet: the generic model answers
    adapted = predictor.predict_file(clip_path(3, 5), Adaptation(stats, "profile", "Ann"))
    assert adapted.adaptation == {"source": "profile", "profile": "Ann", "clips": 3,
                                  "seconds": 6.0}
    assert adapted.probabilities != generic.probabilities
    assert abs(sum(adapted.probabilities.values()) - 1) < 1e-6
    with pytest.raises(ProfileError, match="another feature set"):
        predictor.predict_file(clip_path(3, 5), Adaptation(SpeakerStats.of(np.ones((2, 3)))))


def test_enrol_then_predict_with_profile_and_same_speaker(model_path, tmp_path):
    profile = str(tmp_path / "ann.json")
    lines = []
    refs = [clip_path(2, e, 1, 1, 1) for e in (1, 2, 3, 4)] + [str(tmp_path / "nothing.wav")]
    stats = cli.enrol(refs, profile, "Ann", model=model_path, jobs=1, write=lines.append)
    assert stats.count == 4 and any("skipped" in line for line in lines)
    assert "Profile 'Ann': 4 clips" in lines[-1]
    cli.enrol([clip_path(2, 5)], profile, add=True, model=model_path, jobs=1, write=lines.append)
    assert load_profile(profile)[0].count == 5 and load_profile(profile)[1] == "Ann"

    out = []
    cli.run([clip_path(2, 6), clip_path(2, 7)], True, model_path, 1, out.append, profile=profile)
    rows = [json.loads(line) for line in out]
    assert [r["adaptation"] for r in rows] == [
        {"source": "profile", "profile": "Ann", "clips": 5, "seconds": rows[0]["adaptation"]
         ["seconds"]}] * 2
    assert rows[0]["adaptation"]["seconds"] > 5

    out = []
    folder = os.path.dirname(clip_path(2))
    cli.run([folder], True, model_path, 1, out.append, same_speaker=True)
    rows = [json.loads(line) for line in out]
    assert len(rows) == 60
    assert all(r["adaptation"]["source"] == "same-speaker" and r["adaptation"]["clips"] == 60
               for r in rows)

    out = []
    cli.run([clip_path(2, 6)], True, model_path, 1, out.append)
    assert json.loads(out[0])["adaptation"] is None
    with pytest.raises(cli.CliError, match="voice profile"):
        cli.run([clip_path(2, 6)], True, model_path, 1, out.append, profile=clip_path(2, 6))


def test_enrolment_curve_protocol(subset, tmp_path):
    """Every k is scored on the same clips; reference clips are never among them."""
    report = adapt_eval.run(subset, recipe=QUICK, folds=2, repeats=1,
                            cache_dir=str(tmp_path / "cache"), out_dir=str(tmp_path / "out"),
                            progress=False, log=lambda *_: None)
    table = report["table"]
    assert {f"{kind}:{k}" for kind in adapt_eval.KINDS for k in adapt_eval.KS} <= set(table)
    # 4 actors x 60 clips, each scored once (the other repetition half is the reference pool)
    assert {row["scored"] for row in table.values()} == {240}
    assert table["random:all"]["reference_clips"] == 30
    assert table["neutral_calm:all"]["reference_clips"] == 6   # 2 neutral + 4 calm per half
    assert table["random:8"]["reference_clips"] == 8
    assert table["random:0"]["accuracy_mean"] == table["neutral_calm:0"]["accuracy_mean"]
    assert os.path.getsize(report["png"]) > 1000
    assert "| 8 (≈ " in adapt_eval.format_table(report)


def test_pools_never_score_a_reference():
    class Clip:
        def __init__(self, repetition):
            self.repetition = repetition
    clips = [Clip(1 + i % 2) for i in range(10)]
    for pool, scored in adapt_eval._pools(clips, np.arange(10)):
        assert not set(pool) & set(scored) and len(pool) == len(scored) == 5


def test_reference_draws_quiet_sets_and_target_cap():
    """Quiet draws take their references from the quiet rows only; every draw normalises at
    most `targets` other rows of the same speaker, never its own references."""
    speakers = np.repeat([1, 2], 20)
    quiet = np.tile(np.arange(20) < 5, 2)
    draws = adapt.reference_draws(speakers, np.arange(40), 3, seed=1, sizes=(2, 4), quiet=quiet,
                                  quiet_draws=2, targets=6)
    assert len(draws) == 2 * (3 + 2)
    for n, (ref, target) in enumerate(draws):
        assert len(target) == 6 and not set(ref) & set(target)
        assert len(set(speakers[ref]) | set(speakers[target])) == 1
        if n % 5 >= 3:                      # the speaker's quiet draws come after its random ones
            assert quiet[ref].all()

