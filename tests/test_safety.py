"""Model safety: a `train_model` killed midway (during training, or while it writes the
artifact) leaves the previous model in place and loadable."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ml import Predictor
from tests.audio_factory import DATA_DIR, clip_path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = ROOT / "ml" / "models" / "default.pkl"


def tiny_dataset(folder):
    """Two actors x two emotions x two repetitions (8 clips), as symlinks."""
    for actor in (1, 2):
        actor_dir = folder / f"Actor_{actor:02d}"
        actor_dir.mkdir(parents=True)
        for emotion in (3, 5):
            for repetition in (1, 2):
                clip = Path(clip_path(actor, emotion, 2, 1, repetition))
                (actor_dir / clip.name).symlink_to(clip.resolve())
    return folder


def wait_for(condition, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("moment", ["training", "writing"])
def test_killed_training_leaves_the_previous_model_loadable(tmp_path, moment):
    assert os.path.isdir(DATA_DIR)
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    model = out_dir / "model.pkl"
    shutil.copy(BUNDLED_MODEL, model)
    before = sha256(model)
    log = tmp_path / "train.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "train_model", "--data", str(tiny_dataset(tmp_path /
             "data")), "--out", str(model), "--emotions", "happy,angry", "--folds", "2",
             "--jobs", "1", "--no-cache"],
            cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "sersite.settings_test",
                 "PYTHONUNBUFFERED": "1"})
    try:
        if moment == "training":   # cross-validation done, final fit under way
            hit = wait_for(lambda: "Speaker-independent accuracy" in log.read_text(), proc)
        else:                      # the new artifact is being written next to the old one
            hit = wait_for(lambda: any(n.startswith(".model-") for n in os.listdir(out_dir)),
                           proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert hit, f"training ended before the kill point:\n{log.read_text()}"
    assert proc.returncode == -signal.SIGKILL
    assert sha256(model) == before, "the previous model file was modified"
    prediction = Predictor.from_path(str(model)).predict_file(clip_path(3, 5))
    assert prediction.emotion in prediction.probabilities
