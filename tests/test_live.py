"""Live mode over real HTTP through Django: a RAVDESS clip between silences streamed in 0.5 s
chunks of 48 kHz PCM, the rolling emotion answers, saving to the history, bad input."""
import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf
import soxr
from django.test import Client

from classifier import live
from classifier.models import Analysis
from tests.audio_factory import clip_path

RATE = 48000
CHUNK_S = 0.5
LEAD_S, TAIL_S = 2.0, 3.5

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def live_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    # The session caps are tested here; the rate limits in tests/test_limits.py.
    settings.SER_RATE_LIVE_START = settings.SER_RATE_LIVE_CHUNK = "off"
    return tmp_path / "ser-live"


@pytest.fixture(scope="module")
def stream():
    """(int16 PCM at 48 kHz: faint noise, a clip, faint noise; speech onset and end in s)."""
    y, rate = sf.read(clip_path(2, 5), dtype="float32")
    y = soxr.resample(y, rate, RATE).astype(np.float32)
    rng = np.random.default_rng(3)

    def noise(seconds):  # faint background at -65 dBFS
        return rng.normal(0, 10 ** (-65 / 20), int(seconds * RATE)).astype(np.float32)

    db = 20 * np.log10(np.abs(y) + 1e-9)
    loud = np.flatnonzero(db > db.max() - 30)
    onset, end = LEAD_S + loud[0] / RATE, LEAD_S + loud[-1] / RATE
    pcm = (np.concatenate([noise(LEAD_S), y, noise(TAIL_S)]) * 32767).astype("<i2")
    return pcm, onset, end


def start(client, rate=RATE):
    response = client.post(f"/live/start?rate={rate}")
    assert response.status_code == 200, response.content
    return response.json()


def send(client, session, pcm):
    return client.post(session["chunk_url"], pcm.tobytes(), content_type="application/octet-stream")


def stream_all(client, session, pcm):
    entries, step = [], int(CHUNK_S * RATE)
    for i in range(0, len(pcm), step):
        response = send(client, session, pcm[i:i + step])
        assert response.status_code == 200, response.content
        entries.append(response.json())
    return entries


def test_rolling_timeline_follows_the_speech(client, stream, live_dir):
    pcm, onset, end = stream
    session = start(client)
    assert session["window_s"] == live.WINDOW_S
    answers = stream_all(client, session, pcm)
    entries = [a["entry"] for a in answers]
    assert [a["t"] for a in answers] == pytest.approx(
        [min(len(pcm) / RATE, (i + 1) * CHUNK_S) for i in range(len(answers))], abs=1e-3)
    for e in entries:
        assert e["end_s"] - e["start_s"] == pytest.approx(min(e["end_s"], live.WINDOW_S), abs=1e-3)
        if e["end_s"] <= onset or e["start_s"] >= end + 0.3:
            assert e["emotion"] == "silence" and e["probabilities"] == {}
    labelled = [e for e in entries if e["emotion"] != "silence"]
    assert len(labelled) >= 3
    first = labelled[0]
    assert first["end_s"] <= onset + 1.0   # recognised within a second of the speech starting
    assert entries[-1]["emotion"] == "silence"
    assert max(a["level_db"] for a in answers) > -40 > answers[0]["level_db"]

    response = client.post(session["save_url"], {"keep": "1"})
    assert response.status_code == 200, response.content
    analysis = Analysis.objects.get(uid=response.json()["id"])
    assert response.json()["url"] == f"/analyses/{analysis.uid}/"
    assert analysis.source == Analysis.Source.LIVE and analysis.audio
    # one sentence: analysed whole like a training clip (no timeline), silences trimmed
    assert analysis.segments == [] and analysis.duration_s < end - onset + 0.5
    assert list(live_dir.glob("*.pcm")) == []
    assert send(client, session, pcm[:100]).status_code == 404
    assert client.get(response.json()["url"]).status_code == 200


def test_saving_silence_saves_nothing(client):
    session = start(client, 16000)
    send(client, session, np.zeros(16000, "<i2"))
    response = client.post(session["save_url"])
    assert response.status_code == 400 and "No speech" in response.json()["error"]
    assert Analysis.objects.count() == 0


def test_discard_and_unknown_sessions(client, live_dir):
    session = start(client)
    assert len(list(live_dir.glob("*.pcm"))) == 1
    assert client.post(session["discard_url"]).json() == {"discarded": True}
    assert list(live_dir.glob("*.pcm")) == []
    for token in (session["session"], "0" * 32, "x", "*", "..%2F..%2Fetc"):
        response = client.post(f"/live/{token}/chunk", b"\0\0",
                               content_type="application/octet-stream")
        assert response.status_code == 404
        if "%2F" not in token:  # a slash never reaches the view
            assert "does not exist" in response.json()["error"]
    assert client.post(f"/live/{'0' * 32}/save").status_code == 404


@pytest.mark.parametrize("query", ["", "?rate=abc", "?rate=100", "?rate=192000"])
def test_start_needs_a_sane_rate(client, query):
    response = client.post(f"/live/start{query}")
    assert response.status_code == 400 and "rate" in response.json()["error"]


def test_bad_chunks(client, settings):
    settings.SER_LIVE_MAX_S = 2
    session = start(client, 16000)
    url = session["chunk_url"]
    assert client.post(url, b"", content_type="application/octet-stream").status_code == 400
    assert client.post(url, b"\0\0\0", content_type="application/octet-stream").status_code == 400
    too_long = np.zeros(int(16000 * (live.MAX_CHUNK_S + 1)), "<i2")
    assert send(client, session, too_long).status_code == 413
    assert send(client, session, np.zeros(16000, "<i2")).status_code == 200
    assert send(client, session, np.zeros(16000, "<i2")).status_code == 200
    over = send(client, session, np.zeros(1600, "<i2"))
    assert over.status_code == 413 and "limited to 2 s" in over.json()["error"]
    assert client.get(url).status_code == 405


def test_stale_sessions_are_removed(client, live_dir):
    old = start(client)
    path = next(live_dir.glob(f"{old['session']}_*.pcm"))
    os.utime(path, (0, 0))
    start(client)
    assert not path.exists() and len(list(live_dir.glob("*.pcm"))) == 1


def test_open_sessions_are_bounded_on_the_machine_as_a_last_resort(monkeypatch):
    monkeypatch.setattr(live, "MAX_SESSIONS", 2)
    for address in ("10.0.0.1", "10.0.0.2"):
        start(Client(REMOTE_ADDR=address))
    response = Client(REMOTE_ADDR="10.0.0.3").post(f"/live/start?rate={RATE}")
    assert response.status_code == 503 and "Too many" in response.json()["error"]


# --- issue #12: session floods, idle expiry, races, oversized chunks ---------------------------

def test_a_session_flood_from_one_client_locks_nobody_else_out(settings):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [attacker.post(f"/live/start?rate={RATE}").status_code for _ in range(60)]
    assert set(statuses) == {200}     # the one visitor's older sessions were ended
    cookieless = [Client(REMOTE_ADDR="203.0.113.7").post(f"/live/start?rate={RATE}")
                  for _ in range(20)]        # a new visitor each time, one address
    free = settings.SER_LIVE_SESSIONS_PER_IP - live.SESSIONS_PER_VISITOR
    assert [r.status_code for r in cookieless] == [200] * free + [429] * (20 - free)
    assert "your network" in cookieless[-1].json()["error"]
    assert len(list(live._folder().glob("*_*_*_*.pcm"))) <= settings.SER_LIVE_SESSIONS_PER_IP
    for address in ("198.51.100.1", "198.51.100.2"):
        assert Client(REMOTE_ADDR=address).post(f"/live/start?rate={RATE}").status_code == 200


def test_a_visitor_starting_again_ends_their_oldest_session(client):
    sessions = [start(client) for _ in range(live.SESSIONS_PER_VISITOR + 1)]
    assert send(client, sessions[0], np.zeros(1600, "<i2")).status_code == 404
    for session in sessions[1:]:
        assert send(client, session, np.zeros(1600, "<i2")).status_code == 200


def test_the_address_behind_a_proxy_counts(settings):
    settings.SER_PROXY_HOPS = 1
    settings.SER_LIVE_SESSIONS_PER_IP = 2
    def from_address(address, forged="1.2.3.4"):
        return Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=f"{forged}, {address}").post(
            f"/live/start?rate={RATE}").status_code
    assert [from_address("192.0.2.1", forged=str(i)) for i in range(3)] == [200, 200, 429]
    assert from_address("192.0.2.2") == 200


def test_idle_sessions_expire_within_minutes(client, settings, live_dir):
    assert settings.SER_LIVE_IDLE_S <= 300
    idle = start(client)
    path = next(live_dir.glob(f"{idle['session']}_*.pcm"))
    old = time.time() - settings.SER_LIVE_IDLE_S - 1
    os.utime(path, (old, old))
    Client(REMOTE_ADDR="10.1.1.1").post(f"/live/start?rate={RATE}")
    assert not path.exists()


def race(first, second):
    """Run two callables at the same moment in two threads; returns their results."""
    barrier, results = threading.Barrier(2), [None, None]

    def run(i, call):
        barrier.wait()
        results[i] = call()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_chunk_racing_discard_is_never_a_500_and_never_recreates(live_dir):
    client = Client()
    for _ in range(40):
        session = start(client, 16000)
        chunk, discard = race(lambda: send(client, session, np.zeros(8000, "<i2")),
                              lambda: client.post(session["discard_url"]))
        assert chunk.status_code in (200, 404) and discard.status_code in (200, 404)
        assert (chunk.status_code, discard.status_code) != (404, 404)
        if chunk.status_code == 404:
            assert "does not exist" in chunk.json()["error"]
        assert not list(live_dir.glob(f"{session['session']}_*")), "session re-created"


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_and_discards_are_never_a_500(live_dir):
    client = Client()
    for trial in range(10):
        session = start(client, 16000)
        send(client, session, np.zeros(16000, "<i2"))
        other = (lambda: client.post(session["save_url"])) if trial % 2 else \
            (lambda: client.post(session["discard_url"]))
        a, b = race(lambda: client.post(session["save_url"]), other)
        assert sorted([a.status_code, b.status_code]) in ([200, 404], [400, 404]), (
            a.content, b.content)
        assert "does not exist" in (a if a.status_code == 404 else b).json()["error"]
        assert not list(live_dir.glob(f"{session['session']}_*"))


def test_oversized_chunks_get_json_errors(client):
    session = start(client, 16000)
    for size in (3 * 2**20, 30 * 2**20):   # over Django's in-memory limit; over the upload limit
        response = client.post(session["chunk_url"], b"\0" * size,
                               content_type="application/octet-stream")
        assert response.status_code == 413
        assert "at most" in response.json()["error"] or "too large" in response.json()["error"]
