"""Train -> save -> load -> predict on a subset of the shared data; artifact safety."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml import ModelError, Predictor
from ml import artifact as artifact_io
from ml import inference
from ml.train import actor_folds, train
from tests.artifact_files import read_outer, write_outer
from tests.audio_factory import clip_path, ravdess_subset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def subset(tmp_path_factory, data_dir):
    """Actors 01-04, three emotions, linked into a RAVDESS-layout folder."""
    root = tmp_path_factory.mktemp("ravdess")
    ravdess_subset(root, range(1, 5), lambda name: name.split("-")[2] in ("01", "05", "04"))
    (root / "Actor_01" / "03-01-05-01-01-01-99.wav").write_bytes(b"not audio")
    return str(root)


@pytest.fixture(scope="module")
def trained(subset, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m.pkl"
    logs = []
    artifact = train(subset, str(out), emotions=("neutral", "sad", "angry"), folds=2,
                     cache_dir=str(tmp_path_factory.mktemp("cache")), progress=False,
                     log=logs.append)
    return out, artifact, logs


def test_round_trip(trained):
    out, artifact, logs = trained
    assert any("skipped" in line and "-99.wav" in line for line in logs)
    assert any("Speaker-independent accuracy" in line for line in logs)
    meta = artifact_io.read_metadata(str(out))
    assert meta["emotions"] == ["angry", "neutral", "sad"]
    assert meta["training_data"]["clips"] == 4 * 20 and meta["training_data"]["skipped"] == 1
    assert meta["sample_rate"] == 16000 and meta["feature_set"]["name"] == "default"
    assert len(meta["content_hash"]) == 64 and meta["created_at"]
    assert meta["libraries"]["scikit-learn"]
    assert 0 <= meta["evaluation"]["accuracy_mean"] <= 1
    # the default quick check: the first of 2 actor-grouped folds, actors 1-2 held out
    assert meta["evaluation"]["held_out_actors"] == [1, 2]
    assert meta["evaluation"]["protocol"] == "1 of 2 folds grouped by actor"
    assert os.path.exists(str(out).replace(".pkl", "_loss.png"))
    assert os.path.exists(str(out).replace(".pkl", "_confusion.png"))

    result = Predictor.from_path(str(out)).predict_file(clip_path(2, 5))
    assert set(result.probabilities) == {"angry", "neutral", "sad"}
    assert abs(sum(result.probabilities.values()) - 1) < 1e-6
    assert result.confidence == max(result.probabilities.values())
    assert result.emotion == max(result.probabilities, key=result.probabilities.get)
    assert result.gender in ("male", "female") and 0.5 <= result.gender_confidence <= 1
    assert result.duration_s > 1 and result.processing_ms > 0


def test_trained_model_learns(trained):
    """On its own training actors the model must be clearly better than chance (1/3)."""
    out, _, _ = trained
    predictor = Predictor.from_path(str(out))
    hits = [predictor.predict_file(clip_path(a, e, 2, s, 1)).emotion == name
            for a in (1, 2, 3, 4) for e, name in ((5, "angry"), (4, "sad")) for s in (1, 2)]
    assert np.mean(hits) >= 0.75


def test_folds_never_share_an_actor():
    actors = np.repeat(np.arange(1, 21), 60)
    seen = []
    for train_idx, test_idx in actor_folds(actors, 5):
        assert not set(actors[train_idx]) & set(actors[test_idx])
        seen += sorted(set(actors[test_idx]))
    assert seen == list(range(1, 21))


def test_corrupt_file_is_a_clear_error(trained, tmp_path):
    out, _, _ = trained
    data = bytearray(open(out, "rb").read())
    bad = tmp_path / "truncated.pkl"
    bad.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelError, match="corrupt"):
        artifact_io.load(str(bad))
    with pytest.raises(ModelError, match="No model file"):
        artifact_io.load(str(tmp_path / "missing.pkl"))


@pytest.mark.parametrize("key", ["payload", "inference"])
def test_tampered_payload_fails_hash(trained, tmp_path, key):
    out, _, _ = trained
    outer = read_outer(out)
    outer[key] = pickle.dumps({"emotion": None, "gender": None})
    with pytest.raises(ModelError, match="hash"):
        artifact_io.load(write_outer(outer, tmp_path / "t.pkl"))


def test_incompatible_versions_refused(trained, tmp_path):
    out, _, _ = trained
    outer = read_outer(out)
    outer["metadata"]["libraries"]["scikit-learn"] = "0.24.2"
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        artifact_io.load(write_outer(outer, tmp_path / "old.pkl"))


def test_older_format_asks_for_retraining(trained, tmp_path):
    out, _, _ = trained
    outer = read_outer(out)
    outer["format"] = "ser-model/1"
    with pytest.raises(ModelError, match="Retrain"):
        artifact_io.load(write_outer(outer, tmp_path / "v1.pkl"))


def test_numpy_inference_matches_the_pipelines(trained):
    """The numpy-only form predicting uses gives the scikit-learn pipelines' probabilities."""
    out, _, _ = trained
    artifact = artifact_io.load(str(out))
    X = np.random.default_rng(0).normal(size=(16, artifact.metadata["n_features"]))
    X = X.astype(np.float32)
    for name in ("emotion", "gender"):
        pipeline = getattr(artifact, f"{name}_model")
        form = artifact.inference[name]
        mlps = getattr(pipeline[-1], "estimators_", [pipeline[-1]])
        assert not any(hasattr(m, "_optimizer") for m in mlps)  # slimmed for the artifact
        assert form["classes"] == [str(c) for c in pipeline.classes_]
        np.testing.assert_allclose(inference.predict_proba(form, X),
                                   pipeline.predict_proba(X), rtol=1e-4, atol=1e-6)


def test_predicting_does_not_import_scikit_learn():
    code = ("import sys; from ml import Predictor; p = Predictor.from_path(); p.warm_up(); "
            "print(p.predict_file(sys.argv[1]).emotion); "
            "assert not [m for m in sys.modules if m.startswith('sklearn')], 'sklearn imported'")
    done = subprocess.run([sys.executable, "-c", code, clip_path(1)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in artifact_io.load().emotions


def test_bundled_model_loads():
    artifact = artifact_io.load()
    assert len(artifact.emotions) == 8
    assert artifact.metadata["evaluation"]["protocol"].startswith("5-fold grouped")


def test_calibration_is_stored_and_applied(trained):
    """The temperature fitted on out-of-fold probabilities is in the artifact (estimator and
    numpy form) and every prediction's probabilities are the calibrated ones."""
    out, _, logs = trained
    artifact = artifact_io.load(str(out))
    meta = artifact.metadata["calibration"]
    assert meta["method"] == "temperature" and "actor-grouped" in meta["fitted_on"]
    assert 0.3 <= meta["uncertain_below"] <= 0.8
    assert any(line.startswith("Calibration: temperature") for line in logs)
    for name in ("emotion", "gender"):
        scaler = artifact.calibration[name]
        form = artifact.calibration_form(name)
        assert form == {"method": "temperature", "temperature": scaler.temperature_}
        assert scaler.temperature_ == pytest.approx(meta[name]["temperature"])
    path = clip_path(2, 5)
    predictor = Predictor.from_path(str(out))
    result = predictor.predict_file(path)
    audio = __import__("ml").load_audio(path)
    from ml.features import extract
    raw = artifact.emotion_model.predict_proba(extract(audio.samples, predictor.config)[None])
    expected = artifact.calibration["emotion"].predict_proba(raw)[0]
    assert [result.probabilities[c] for c in artifact.emotions] == pytest.approx(expected, abs=1e-4)
    assert result.uncertain == (result.confidence < meta["uncertain_below"])
    assert result.top_two[0] == result.emotion and len(result.top_two) == 2


def test_bundled_model_is_calibrated():
    """The bundled model's temperature was fitted on 5-fold grouped out-of-fold probabilities
    and brought the expected calibration error to at most 0.05 (cross-fitted)."""
    meta = artifact_io.load().metadata["calibration"]
    assert meta["fitted_on"].endswith("5 actor-grouped folds")
    assert meta["emotion"]["temperature"] > 1          # the raw MLPs were overconfident
    assert meta["emotion"]["ece_after"] <= 0.05 < meta["emotion"]["ece_before"]
