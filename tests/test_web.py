"""Pages through Django's test client: every page, upload of every format, history, errors."""
import csv
import io
import os
import uuid

import numpy as np
import pytest
from PIL import Image

from classifier.models import Analysis
from ml.dataset import EMOTIONS
from tests.audio_factory import clip_path, speech, write

pytestmark = pytest.mark.django_db


def encode_pyav(path, container, codec, data, rate):
    """Encode mono float32 data with PyAV (formats libsndfile cannot write: m4a, webm)."""
    import av
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(data[None, :].astype(np.float32), format="flt",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return str(path)


FORMATS = {
    "wav": lambda p: write(p, speech(44100, 2), 44100),
    "flac": lambda p: write(p, speech(48000), 48000, "FLAC", "PCM_16"),
    "ogg": lambda p: write(p, speech(44100), 44100, "OGG", "VORBIS"),
    "opus": lambda p: write(p, speech(48000), 48000, "OGG", "OPUS"),
    "mp3": lambda p: write(p, speech(44100), 44100, "MP3", "MPEG_LAYER_III"),
    "m4a": lambda p: encode_pyav(p, "mp4", "aac", speech(44100)[:, 0], 44100),
    "webm": lambda p: encode_pyav(p, "webm", "libopus", speech(48000)[:, 0], 48000),
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Kept recordings go to a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


def post_clip(client, path, **fields):
    with open(path, "rb") as f:
        return client.post("/analyse", {"file": f, "source": "upload", **fields})


def analyse(client, path, **fields):
    response = post_clip(client, path, **fields)
    assert response.status_code == 302, response.content[:500]
    return Analysis.objects.get(uid=response["Location"].split("/")[2])


def raw(path, data):
    path.write_bytes(data)
    return path


def kept_files(media):
    return [os.path.join(r, n) for r, _, names in os.walk(media) for n in names]


def test_home_page(client):
    html = client.get("/").content.decode()
    assert 'type="file"' in html and 'id="dropzone"' in html and 'id="rec-start"' in html
    assert 'name="keep"' in html and "csrfmiddlewaretoken" in html
    assert "<script>" not in html and "<style" not in html and " style=" not in html


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_upload_each_format_gives_a_result(client, tmp_path, ext):
    a = analyse(client, FORMATS[ext](tmp_path / f"clip.{ext}"))
    assert a.emotion in EMOTIONS and a.source == "upload" and a.filename == f"clip.{ext}"
    assert abs(sum(a.probabilities.values()) - 1) < 1e-6 and 2.0 < a.duration_s < 3.5
    assert a.gender == "male" and not a.audio  # actor 01; not kept by default
    html = client.get(f"/analyses/{a.uid}/?new=1").content.decode()
    assert a.emotion.capitalize() in html and html.count("<meter") == len(EMOTIONS)
    for kind in ("waveform", "spectrogram"):
        png = client.get(f"/analyses/{a.uid}/{kind}.png")
        assert png.status_code == 200 and png["Content-Type"] == "image/png"
        assert png.content.startswith(b"\x89PNG") and len(png.content) < 120_000


def test_plots_are_drawn_on_first_view_and_kept(client):
    a = analyse(client, clip_path(2, 5))
    assert 0 < len(a.plot_data) < 60_000 and not a.waveform_png and not a.spectrogram_png
    for kind in ("waveform", "spectrogram"):
        first = client.get(f"/analyses/{a.uid}/{kind}.png").content
        image = Image.open(io.BytesIO(first))
        assert image.size == (720, 200) and len(image.getcolors(256) or range(257)) > 4
        a.refresh_from_db()
        assert bytes(getattr(a, f"{kind}_png")) == first  # drawn once, then served as stored
        assert client.get(f"/analyses/{a.uid}/{kind}.png").content == first


def test_result_page_shows_all_parts(client):
    a = analyse(client, clip_path(4, 3))
    html = client.get(f"/analyses/{a.uid}/").content.decode()
    for part in ('id="emotion"', 'id="confidence"', 'id="gender"', 'id="duration"',
                 f"/analyses/{a.uid}/waveform.png", f"/analyses/{a.uid}/spectrogram.png",
                 'id="local-audio"', "was not kept"):
        assert part in html
    assert 'id="timeline"' not in html  # a short clip has no timeline
    assert client.get(f"/analyses/{a.uid}/audio").status_code == 404


def test_pages_say_what_the_model_knows(client):
    """Home, result and model pages state the training data, the accuracy on unseen actors
    (from the model's own metadata) and that other speech scores lower."""
    from classifier import services
    meta = services.get_predictor().artifact.metadata
    percent = round(100 * meta["evaluation"]["accuracy_mean"])
    a = analyse(client, clip_path(4, 3))
    for url in ("/", f"/analyses/{a.uid}/", "/model/"):
        html = " ".join(client.get(url).content.decode().split())
        assert 'id="model-knows"' in html, url
        assert "acted English speech, 20 actors" in html and "in 8 emotions" in html
        assert f"names the right emotion {percent}% of the time" in html
        assert "other languages and other recording set-ups score lower" in html


def test_uncertain_answer_shows_the_two_most_likely_emotions(client):
    """Normal-intensity clips give both sure and unsure answers; an unsure one names its two
    most likely emotions with their probabilities instead of one "confident" word."""
    seen = set()
    for actor, emotion in ((a, e) for a in (1, 2, 3, 4) for e in range(1, 9)):
        if len(seen) == 2:
            break
        a = analyse(client, clip_path(actor, emotion, intensity=1))
        html = client.get(f"/analyses/{a.uid}/").content.decode()
        (first, p1), (second, p2) = a.top_two_probabilities()
        if a.uncertain:
            assert f"{first.capitalize()} or {second}</p>" in html
            assert f"Uncertain: {first} {round(100 * p1)}%, {second} {round(100 * p2)}%" in html
            assert "% confident" not in html
        else:
            assert f">{a.emotion.capitalize()}</p>" in html
            assert f"{round(100 * a.confidence)}% confident" in html and "Uncertain" not in html
        seen.add(a.uncertain)
    assert seen == {True, False}


def test_long_clip_gets_a_segment_timeline(client, tmp_path):
    y = np.concatenate([speech(16000, 1, 1, 5), np.zeros((16000, 1), np.float32),
                        speech(16000, 1, 1, 4), speech(16000, 1, 1, 3)])
    a = analyse(client, write(tmp_path / "long.wav", y, 16000))
    assert len(a.segments) >= 3
    assert 0.3 < a.segments[0]["start_s"] < 1.5   # from the first speech ...
    assert len(y) / 16000 - 1.5 < a.segments[-1]["end_s"] < len(y) / 16000  # ... to the last
    html = client.get(f"/analyses/{a.uid}/").content.decode()
    assert 'id="timeline"' in html and html.count('class="seg ') == len(a.segments)


def test_keep_stores_audio_and_delete_removes_it(client, media):
    a = analyse(client, clip_path(2, 6), keep="on")
    assert a.audio and len(kept_files(media)) == 1
    audio = client.get(f"/analyses/{a.uid}/audio")
    assert audio.status_code == 200 and b"".join(audio.streaming_content).startswith(b"RIFF")
    assert f'src="/analyses/{a.uid}/audio"' in client.get(f"/analyses/{a.uid}/").content.decode()
    response = client.post(f"/analyses/{a.uid}/delete")
    assert response.status_code == 302 and not Analysis.objects.exists()
    assert kept_files(media) == []


def test_not_kept_audio_leaves_no_file(client, media):
    analyse(client, clip_path(2, 6))
    assert kept_files(media) == []


def test_recording_source(client):
    with open(clip_path(3, 5), "rb") as f:
        response = client.post("/analyse", {"file": f, "source": "record"})
    assert response.status_code == 302
    assert Analysis.objects.get().get_source_display() == "Recording"


def test_history_lists_newest_first_and_paginates(client):
    first = analyse(client, clip_path(1, 2))
    analyse(client, clip_path(1, 3))
    last = analyse(client, clip_path(1, 4))
    html = client.get("/history/").content.decode()
    assert html.index(f"/analyses/{last.uid}/") < html.index(f"/analyses/{first.uid}/")
    assert "3 analyses" in html and "not kept" in html
    Analysis.objects.bulk_create([Analysis(**{**_fields(last), "id": None, "uid": uuid.uuid4()})
                                  for _ in range(25)])
    page2 = client.get("/history/?page=2").content.decode()
    assert "Page 2 of 2" in page2 and f"/analyses/{first.uid}/" in page2
    assert client.get("/history/?page=junk").status_code == 200


def _fields(a):
    return {f.name: getattr(a, f.name) for f in Analysis._meta.fields if f.name != "created_at"}


def test_delete_all_removes_rows_and_files(client, media):
    analyse(client, clip_path(5, 5), keep="on")
    analyse(client, clip_path(6, 5), keep="on")
    analyse(client, clip_path(7, 5))
    assert len(kept_files(media)) == 2
    response = client.post("/history/delete", follow=True)
    assert "Deleted 3 analyses" in response.content.decode()
    assert not Analysis.objects.exists() and kept_files(media) == []
    assert 'id="empty"' in client.get("/history/").content.decode()


def test_export_csv(client):
    a = analyse(client, clip_path(8, 8))
    Analysis.objects.filter(pk=a.pk).update(filename="=HYPERLINK(1)")
    response = client.get("/history/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    assert all(line.startswith('"') for line in text.splitlines())   # every field quoted
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["emotion"] == a.emotion and rows[0]["id"] == str(a.uid)
    assert rows[0]["filename"] == "'=HYPERLINK(1)"  # no formula injection into spreadsheets
    assert {f"p_{e}" for e in EMOTIONS} <= set(rows[0])
    assert abs(sum(float(rows[0][f"p_{e}"]) for e in EMOTIONS) - 1) < 1e-3


@pytest.mark.parametrize("name, safe", [
    ("=HYPERLINK(1)", False), ("a;=1+1", False), ("a,=1+1", False), (" =1+1", False),
    ("\u3000=1+1", False), ("\uff1d1+1", False), ("\uff0bcmd", False), ("-2+3", False),
    ("@SUM(A1)", False), ("\t=1", False), ("speech.wav", True), ("a b (1).wav", True),
    ("émotion 😀.wav", True),
])
def test_csv_cells_never_start_a_formula(name, safe):
    from classifier.services import _cell
    assert _cell(name) == (name if safe else "'" + name)


def test_model_page(client):
    html = client.get("/model/").content.decode()
    for text in ("CC BY-NC-SA 4.0", "never in the training", "Limits", "/model/confusion.png",
                 "Emotion accuracy", "Gender accuracy"):
        assert text in html
    for emotion in EMOTIONS:
        assert emotion in html
    png = client.get("/model/confusion.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_api_docs_use_local_assets(client):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        response = client.get(f"/static/ninja/{asset}")
        assert response.status_code == 200, asset


@pytest.mark.parametrize("make,status,message", [
    (lambda p: raw(p, b"<html>not audio</html>"), 400, "unrecognised"),
    (lambda p: write(p, np.zeros((32000, 1), np.float32), 16000), 400, "no speech"),
    (lambda p: raw(p, b"RIFF\x00\x00\x00\x00WAVEfmt garbage"), 400, "unrecognised"),
    (lambda p: raw(p, b""), 400, "empty"),
])
def test_bad_files_show_a_readable_error(client, tmp_path, make, status, message):
    path = make(tmp_path / "bad.wav")
    response = post_clip(client, path)
    assert response.status_code == status
    html = response.content.decode()
    assert 'role="alert"' in html and message in html.lower() and "Traceback" not in html
    assert not Analysis.objects.exists()


def test_missing_file_and_get_on_analyse(client):
    response = client.post("/analyse", {"source": "upload"})
    assert response.status_code == 400 and "Choose an audio file" in response.content.decode()
    assert client.get("/analyse").status_code == 302


def test_oversized_file_is_refused(client, settings, tmp_path):
    settings.SER_MAX_UPLOAD_BYTES = 50_000
    response = post_clip(client, write(tmp_path / "big.wav", speech(44100, 2), 44100))
    assert response.status_code == 413 and "too large" in response.content.decode().lower()
    assert not Analysis.objects.exists()


def test_too_long_recording_is_refused(client, settings, tmp_path):
    settings.SER_MAX_DURATION_S = 1.0
    response = post_clip(client, clip_path())
    assert response.status_code == 400 and "limit" in response.content.decode()


def test_unknown_pages_are_404(client):
    unknown = uuid.uuid4()
    assert client.get(f"/analyses/{unknown}/").status_code == 404
    assert client.get(f"/analyses/{unknown}/waveform.png").status_code == 404
    assert client.post(f"/analyses/{unknown}/delete").status_code == 404
    assert client.get("/analyses/999999/").status_code == 404


def test_csrf_is_enforced_on_pages():
    from django.test import Client
    strict = Client(enforce_csrf_checks=True)
    with open(clip_path(), "rb") as f:
        assert strict.post("/analyse", {"file": f}).status_code == 403
    assert strict.post("/history/delete").status_code == 403


def test_migrations_are_up_to_date():
    from django.core.management import call_command
    call_command("makemigrations", "classifier", "--check", "--dry-run", verbosity=0)
