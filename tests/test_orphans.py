"""Nothing orphaned (issue #12 item 6): a process killed at any point of an analysis leaves no
file that no row names (kept recordings: the row is written first), a gunicorn worker
SIGKILLed mid-upload leaves no temporary file (the master removes its files), and
`manage.py cleanup` (the release phase) clears whatever is left."""
import http.client
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench import load
from tests.audio_factory import speech
from tests.test_deploy import multipart

ROOT = Path(__file__).resolve().parent.parent

# Runs one kept-recording analysis in a fresh process that SIGKILLs itself at `point`.
CRASH_SCRIPT = r'''
import io, os, signal, sys, uuid
import django
django.setup()
import numpy as np, soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from classifier import services
from classifier.models import Analysis
from classifier.owners import Owner

point = sys.argv[1]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
storage = Analysis._meta.get_field("audio").storage
if point == "row":
    Analysis.save = die
elif point == "file":
    storage.save = die
elif point == "mid-file":
    real_save = storage._save
    def half(name, content):
        path = storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.read(1000))
        die()
    storage._save = half
buf = io.BytesIO()
y, rate = sf.read(sys.argv[2], dtype="float32")
sf.write(buf, y, rate, format="WAV")
upload = SimpleUploadedFile("speech.wav", buf.getvalue(), content_type="audio/wav")
services.analyse_upload(upload, keep=True, owner=Owner(visitor=uuid.uuid4()))
print("finished")
'''


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def named_recordings(db):
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute(
            "SELECT audio FROM classifier_analysis WHERE audio != ''")}


@pytest.fixture(scope="module")
def deploy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orphans")
    env = load.production_env(folder, load.free_port(), WEB_CONCURRENCY=1, GUNICORN_THREADS=2)
    load.prepare(env)
    return folder, env


@pytest.mark.parametrize("point", ["row", "file", "mid-file"])
def test_a_process_killed_while_keeping_a_recording_orphans_nothing(deploy, point, tmp_path):
    folder, env = deploy
    clip = tmp_path / "clip.wav"
    sf.write(clip, speech(16000, 1), 16000)
    out = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, point, str(clip)], cwd=ROOT,
                         env={**env, "DJANGO_SETTINGS_MODULE": "sersite.settings"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    media, db = folder / "media", folder / "db.sqlite3"
    stored = {f"{p}" for p in files_under(media)} if media.exists() else set()
    assert stored <= named_recordings(db), "a kept recording no row names"
    cleanup = subprocess.run([sys.executable, "manage.py", "cleanup", "--older-than", "0"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert cleanup.returncode == 0, cleanup.stderr
    assert os.listdir(env["UPLOAD_TEMP_DIR"]) == []      # the killed process's temp upload
    named = named_recordings(db)
    assert all((media / name).exists() for name in named), "a row names a missing file"
    assert set(files_under(media) if media.exists() else []) <= named


def test_a_worker_killed_mid_upload_leaves_no_temporary_file(deploy, tmp_path):
    folder, env = deploy
    env = {**env, "PORT": str(load.free_port())}
    buf = io.BytesIO()
    sf.write(buf, np.tile(speech(16000, 1), (20, 1)), 16000, format="WAV")   # ~3.5 MB
    body, boundary = multipart(buf.getvalue())
    uploads = Path(env["UPLOAD_TEMP_DIR"])
    log_path = tmp_path / "gunicorn.log"
    with load.serve(env, log_path) as (url, proc):
        host, port = urllib.parse.urlsplit(url).netloc.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.putrequest("POST", "/api/predict")
        for name, value in {"X-Forwarded-Proto": "https", "Content-Length": str(len(body)),
                            "Content-Type": f"multipart/form-data; boundary={boundary}"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(body[: len(body) // 2])          # the worker is now streaming it to disk
        deadline = time.monotonic() + 20
        while not os.listdir(uploads) and time.monotonic() < deadline:
            time.sleep(0.05)
        [temp] = os.listdir(uploads)
        worker = int(temp.split("-")[2])            # ser-upload-<pid>-...
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while log_path.read_text().count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert os.listdir(uploads) == [], "the killed worker's upload was left behind"
        assert load.get(url + "/healthz")[0] == 200
        conn.close()
    assert f"Removed 1 temporary upload(s) of worker {worker}" in log_path.read_text()
