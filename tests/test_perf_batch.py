"""Batch prediction: parallel extraction gives the same answers in the same order as serial
extraction, with one model; warm-up changes nothing but the first call's cost."""
import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from ml import Predictor
from ml.batch import expand_paths, predict_many, workers_for
from tests.audio_factory import DATA_DIR, clip_path


@pytest.fixture(scope="module")
def predictor():
    return Predictor.from_path()


def without_timing(rows):
    return [{k: v for k, v in r.items() if k != "processing_ms"} for r in rows]


def test_parallel_equals_serial_in_order_with_failures(predictor, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"garbage")
    folder = os.path.join(DATA_DIR, "Actor_05")
    paths = expand_paths([folder])[:14] + [str(bad), str(tmp_path / "missing.wav")] \
        + [clip_path(6, 3)]
    assert workers_for(len(paths), 2) == 2
    serial = list(predict_many(predictor, paths, jobs=1))
    parallel = list(predict_many(predictor, paths, jobs=2))
    assert [r["file"] for r in parallel] == paths
    assert without_timing(parallel) == without_timing(serial)
    assert "error" in parallel[14] and parallel[15]["error"] == "No such file."
    assert all(r["processing_ms"] > 0 for r in parallel if "error" not in r)
    single = predictor.predict_file(paths[0]).to_dict()
    assert serial[0]["emotion"] == single["emotion"]
    assert serial[0]["probabilities"] == pytest.approx(single["probabilities"], abs=1e-5)


def test_predict_command_jobs(tmp_path):
    folder = os.path.join(DATA_DIR, "Actor_07")
    out = io.StringIO()
    call_command("predict", folder, "--json", "--jobs", "2", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["file"] for r in rows] == expand_paths([folder])
    assert all(set(r) >= {"emotion", "probabilities", "gender", "processing_ms"} for r in rows)
    with pytest.raises(CommandError, match="--jobs"):
        call_command("predict", folder, "--jobs", "0", stdout=io.StringIO())


def test_warm_up_leaves_predictions_unchanged(predictor):
    before = predictor.predict_file(clip_path(8, 6)).to_dict()
    predictor.warm_up()
    after = predictor.predict_file(clip_path(8, 6)).to_dict()
    before.pop("processing_ms"), after.pop("processing_ms")
    assert before == after
