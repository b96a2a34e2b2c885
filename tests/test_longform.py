"""One answer for long recordings on every path, and no emotion for sounds that are not speech.

A small model is trained on actors 03-08; long recordings are joined from clips of actors 01-02,
whom it never heard (a held-out fold). Upload page, API, `predict` CLI and Live mode must give
the same aggregated answer, built from the same timeline; the generated non-speech corpus
(ml/nonspeech.py) must be refused everywhere.
"""
import io
import json

import numpy as np
import pytest
import soundfile as sf
from django.core.management import call_command
from django.core.management.base import CommandError

from classifier import services
from classifier.models import Analysis
from ml import Predictor, audio_plots, longclips, nonspeech
from ml.dataset import scan
from ml.segment import SILENCE, aggregate
from ml.train import train
from tests.audio_factory import ravdess_subset
from tests.test_live import send, start

pytestmark = pytest.mark.django_db
EMOTIONS = ("neutral", "happy", "angry")
CODES = ("01", "03", "05")


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """These tests send a few hundred requests from one address."""
    for name in ("SER_RATE_ANALYSE", "SER_RATE_API", "SER_RATE_LIVE_START",
                 "SER_RATE_LIVE_CHUNK"):
        setattr(settings, name, "off")


@pytest.fixture(scope="module")
def held_out_model(tmp_path_factory):
    """(model path, RAVDESS-layout folder of the held-out actors 01-02)."""
    keep = lambda name: name.split("-")[2] in CODES  # noqa: E731
    train_dir = ravdess_subset(tmp_path_factory.mktemp("train"), range(3, 9), keep)
    test_dir = ravdess_subset(tmp_path_factory.mktemp("test"), (1, 2), keep)
    out = tmp_path_factory.mktemp("model") / "held-out.pkl"
    train(train_dir, str(out), emotions=EMOTIONS, folds=3, score_folds=None,
          cache_dir=str(tmp_path_factory.mktemp("cache")), progress=False, log=lambda *a: None)
    return str(out), test_dir


@pytest.fixture
def model_in_use(held_out_model, settings):
    """The web app serves the held-out model for the test."""
    settings.SER_MODEL_PATH = held_out_model[0]
    services._predictor = None
    yield held_out_model
    services._predictor = None


@pytest.fixture(scope="module")
def long_files(held_out_model, tmp_path_factory):
    """WAV files: two long clips of one emotion and two mixtures, from the held-out actors."""
    clips = scan(held_out_model[1], EMOTIONS)
    paths, labels = [c.path for c in clips], [c.emotion for c in clips]
    folder = tmp_path_factory.mktemp("long")
    made = longclips.build(paths, labels, 2, mixed=False, seed=1) \
        + longclips.build(paths, labels, 2, mixed=True, seed=2)
    files = []
    for i, clip in enumerate(made):
        path = folder / f"long{i}.wav"
        sf.write(path, clip.samples, 16000, subtype="PCM_16")
        files.append((str(path), clip))
    return files


def upload(client, path, endpoint):
    with open(path, "rb") as f:
        if endpoint == "api":
            return client.post("/api/predict", {"file": f})
        return client.post("/analyse", {"file": f, "source": "upload"})


def probabilities(result, emotions):
    return [result["probabilities"][e] for e in emotions]


def test_long_clips_get_one_answer_on_every_path(client, model_in_use, long_files):
    model_path, _ = model_in_use
    emotions = sorted(EMOTIONS)
    out = io.StringIO()
    call_command("predict", *[p for p, _ in long_files], "--json", "--model", model_path,
                 stdout=out)
    cli = [json.loads(line) for line in out.getvalue().splitlines()]
    direct = Predictor.from_path(model_path)
    for (path, clip), command in zip(long_files, cli):
        api = client.post("/api/predict", {"file": open(path, "rb")}).json()
        page = upload(client, path, "page")
        assert page.status_code == 302
        stored = Analysis.objects.get(uid=page["Location"].split("/")[2])
        assert len(clip.parts) >= 4 and command["file"] == path
        assert "id" not in api   # the API without a token stores nothing
        for other in (api, stored.result()):
            assert other["emotion"] == command["emotion"]
            assert probabilities(other, emotions) == pytest.approx(
                probabilities(command, emotions), abs=1e-6)
            assert other["uncertain"] == command["uncertain"]
            assert other["duration_s"] == command["duration_s"]
        assert api["segments"] == stored.segments
        # the headline is the speech-weighted mean of the timeline's windows
        spoken = [s for s in stored.segments if s["emotion"] != SILENCE]
        assert len(spoken) >= 3
        expected = aggregate([probabilities(s, emotions) for s in spoken],
                             [s["speech_s"] for s in spoken])
        assert probabilities(command, emotions) == pytest.approx(expected, abs=1e-3)
        prediction, timeline = direct.analyse(sf.read(path, dtype="float32")[0])
        assert prediction.emotion == command["emotion"] and timeline == stored.segments


def test_timeline_has_no_duplicates_and_uses_the_files_clock(client, model_in_use, long_files):
    path, clip = long_files[0]
    duration = len(clip.samples) / 16000
    response = upload(client, path, "page")
    analysis = Analysis.objects.get(uid=response["Location"].split("/")[2])
    windows = [(s["start_s"], s["end_s"]) for s in analysis.segments]
    assert len(windows) == len(set(windows)) and windows == sorted(windows)
    assert len({start for start, _ in windows}) == len(windows)
    # the windows start at the first speech and end at the last, in seconds of the file
    assert windows[0][0] == pytest.approx(clip.onsets_s[0], abs=0.15)
    assert duration - 0.5 - 0.3 < windows[-1][1] <= duration
    # the waveform and spectrogram are drawn over the same (whole-file) clock
    assert audio_plots._load(analysis.plot_data)["duration"] == pytest.approx(duration, abs=1e-3)
    html = client.get(f"/analyses/{analysis.uid}/").content.decode()
    assert html.count('class="seg ') == len(windows)
    assert f"{windows[0][0]:.1f}–{windows[0][1]:.1f} s" in html


@pytest.fixture(scope="module")
def nonspeech_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nonspeech")
    files = {}
    for i, (name, samples) in enumerate(nonspeech.corpus().items()):
        files[name] = str(folder / f"sound{i:02d}.wav")
        sf.write(files[name], samples, 16000, subtype="PCM_16")
    return files


def test_nonspeech_is_refused_by_the_page_and_the_api(client, nonspeech_files):
    for name, path in nonspeech_files.items():
        page = upload(client, path, "page")
        assert page.status_code == 400, name
        assert "No speech detected" in page.content.decode(), name
        api = upload(client, path, "api")
        assert api.status_code == 400 and api.json()["error"].startswith("No speech detected"), \
            name
    assert Analysis.objects.count() == 0


def test_nonspeech_is_refused_by_the_cli(nonspeech_files):
    out = io.StringIO()
    with pytest.raises(CommandError, match=f"{len(nonspeech_files)} of {len(nonspeech_files)}"):
        call_command("predict", *nonspeech_files.values(), "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == len(nonspeech_files)
    assert all(row["error"].startswith("No speech detected") for row in rows), rows


def test_nonspeech_is_silence_in_live_mode(client, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    for name, samples in nonspeech.corpus().items():
        session = start(client, 16000)
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        for i in range(0, len(pcm), 8000):
            entry = send(client, session, pcm[i:i + 8000]).json()["entry"]
            assert entry["emotion"] == SILENCE, (name, entry)
        response = client.post(session["save_url"])
        assert response.status_code == 400, name
        assert response.json()["error"].startswith("No speech detected"), name
    assert Analysis.objects.count() == 0
