"""`predict` and `train_model` management commands through call_command."""
import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from ml.dataset import EMOTIONS
from tests.audio_factory import DATA_DIR, clip_path

KEYS = {"file", "emotion", "confidence", "probabilities", "gender", "gender_confidence",
        "duration_s", "processing_ms", "uncertain", "top_two", "adaptation"}


def run_predict(*args):
    out = io.StringIO()
    error = None
    try:
        call_command("predict", *args, stdout=out)
    except CommandError as exc:
        error = exc
    return out.getvalue(), error


def test_predict_json_contract_over_a_folder():
    folder = os.path.join(DATA_DIR, "Actor_03")
    out, error = run_predict(folder, "--json")
    assert error is None
    lines = out.strip().splitlines()
    assert len(lines) == 60
    for line in lines:
        row = json.loads(line)
        assert set(row) == KEYS
        assert row["file"].startswith(folder)
        assert row["emotion"] in EMOTIONS and set(row["probabilities"]) == set(EMOTIONS)
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-6
        assert 0 <= row["confidence"] <= 1 and row["gender"] in ("male", "female")
        assert row["top_two"][0] == row["emotion"] and isinstance(row["uncertain"], bool)
        assert row["duration_s"] > 0.3
    assert sum(json.loads(x)["gender"] == "male" for x in lines) >= 54  # actor 03 is male


def test_predict_reports_failures_and_continues(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"garbage")
    good = clip_path(2, 3)
    out, error = run_predict(str(bad), good, str(tmp_path / "missing.mp3"), "--json")
    rows = [json.loads(x) for x in out.strip().splitlines()]
    assert [r["file"] for r in rows] == [str(bad), good, str(tmp_path / "missing.mp3")]
    assert "error" in rows[0] and "emotion" in rows[1] and "error" in rows[2]
    assert isinstance(error, CommandError) and "2 of 3" in str(error)


def test_predict_table():
    out, error = run_predict(clip_path(4, 4))
    assert error is None
    assert "emotion" in out.splitlines()[0] and "female" in out


def test_train_model_rejects_bad_arguments(tmp_path):
    with pytest.raises(CommandError, match="No RAVDESS clips"):
        call_command("train_model", "--data", str(tmp_path), "--out", str(tmp_path / "m.pkl"))
    with pytest.raises(CommandError, match="unknown: bored"):
        call_command("train_model", "--data", DATA_DIR, "--emotions", "calm,bored")


def test_evaluate_refuses_a_bad_adapt_recipe():
    for bad in ('{"no_such_field": 1}', "[1, 2]", "not json"):
        with pytest.raises(CommandError, match="AdaptRecipe fields"):
            call_command("evaluate", "--adapt", "--adapt-recipe", bad, "--data", "nowhere")
