"""Request deadlines (issue #12 item 3): slow clients against the Procfile's gunicorn on loopback
are disconnected instead of holding worker threads, /healthz keeps answering meanwhile; every
analysis has a hard deadline (503 with a message when it runs out)."""
import io
import socket
import threading
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
import soundfile as sf

from bench import load
from tests.audio_factory import speech
from tests.test_deploy import multipart

SLOW_CLIENTS = 8


def trickle(address, fast, slow, stop, closed_after, index):
    """Send fast at once, then slow one byte a second until the server closes the connection
    (or stop is set); record after how many seconds it was closed."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(fast)
        sock.settimeout(1.0)
        for byte in slow:
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1024) == b"":
                    break
            except socket.timeout:
                continue
            except OSError:
                break
            else:
                break   # an answer (e.g. 400) instead of a wait: also a closed slot
    closed_after[index] = time.monotonic() - started


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slow")
    env = load.production_env(folder, load.free_port(), WEB_CONCURRENCY=1, GUNICORN_THREADS=2,
                              SER_HEADER_TIMEOUT_S=2, SER_MIN_UPLOAD_BYTES_PER_S=100)
    load.prepare(env)
    with load.serve(env, folder / "gunicorn.log") as (url, proc):
        yield url, proc, folder


def test_slow_clients_are_cut_off_and_healthz_keeps_answering(server):
    """8 clients sending headers or a body at 1 byte/s against 1 worker x 2 threads: before,
    they held both threads (probes timed out); now each is disconnected once it falls behind
    the minimum rate (100 bytes/s after a 2 s grace) and every probe answers."""
    url = server[0]
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    body_head = (b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                 b"Content-Type: application/octet-stream\r\nContent-Length: 2000\r\n\r\n")
    headers_only = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long-Header: " + b"a" * 500
    stop, closed_after = threading.Event(), [None] * SLOW_CLIENTS
    clients = [threading.Thread(target=trickle, args=(
        (host, int(port)), *((b"", headers_only) if i % 2 else (body_head, b"x" * 2000)), stop,
        closed_after, i)) for i in range(SLOW_CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(1.0)
    probes = []
    try:
        for _ in range(16):
            started = time.monotonic()
            try:
                status = load.get(url + "/healthz", timeout=4)[0]
            except OSError:
                status = None
            probes.append((status, round(time.monotonic() - started, 2)))
            time.sleep(0.5)
    finally:
        for c in clients:
            c.join(timeout=30)
        stop.set()
    assert all(status == 200 for status, _ in probes), probes
    assert all(after is not None and after < 6 for after in closed_after), closed_after
    assert "missed its deadline" in (server[2] / "gunicorn.log").read_text()


def test_a_fast_upload_is_not_cut_off(server):
    url = server[0]
    buf = io.BytesIO()
    sf.write(buf, speech(16000, 1), 16000, format="WAV")
    body, boundary = multipart(buf.getvalue())
    request = urllib.request.Request(url + "/api/predict", data=body, headers={
        "X-Forwarded-Proto": "https", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


@pytest.mark.django_db
def test_every_analysis_has_a_deadline(client, settings):
    """A 10-minute recording with a 0.2 s analysis deadline: 503 and a message, not a wait."""
    y = np.tile(speech(16000, 1)[:, 0], 200)[: 599 * 16000]
    buf = io.BytesIO()
    sf.write(buf, y, 16000, format="FLAC")
    buf.seek(0)
    buf.name = "long.flac"
    settings.SER_ANALYSIS_TIMEOUT_S = 0.2
    started = time.monotonic()
    response = client.post("/api/predict", {"file": buf})
    assert time.monotonic() - started < 5
    assert response.status_code == 503, response.content
    assert "took too long" in response.json()["error"]
