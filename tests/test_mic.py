"""The server-microphone page: 404 unless enabled and local; a real recording through PortAudio
(PulseAudio null sink) ending on the result page; the messages without PyAudio or a device."""
import sys
import time

import pytest

from classifier import mic
from classifier.models import Analysis

URLS = [("get", "/mic/"), ("post", "/mic/start"), ("get", "/mic/status"), ("post", "/mic/stop")]


def call(client, method, url, **extra):
    return getattr(client, method)(url, **extra)


@pytest.mark.parametrize("method,url", URLS)
def test_off_by_default(client, settings, method, url):
    settings.SER_SERVER_MIC = False
    assert call(client, method, url).status_code == 404


@pytest.mark.parametrize("method,url", URLS)
@pytest.mark.parametrize("extra", [
    {"REMOTE_ADDR": "203.0.113.7"},
    {"REMOTE_ADDR": "10.0.0.2"},
    {"REMOTE_ADDR": "not-an-address"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},  # through a proxy
    {"REMOTE_ADDR": "::1", "HTTP_FORWARDED": "for=203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_CLIENT_IP": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_TRUE_CLIENT_IP": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_CF_CONNECTING_IP": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_FASTLY_CLIENT_IP": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_CLUSTER_CLIENT_IP": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_ORIGINAL_FORWARDED_FOR": "203.0.113.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_VIA": "1.1 cdn.example"},
])
def test_only_for_local_clients_when_enabled(client, settings, method, url, extra):
    settings.SER_SERVER_MIC = True
    assert call(client, method, url, **extra).status_code == 404


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_see_the_page(client, settings, address, monkeypatch):
    settings.SER_SERVER_MIC = True
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # without PyAudio: the page explains
    response = client.get("/mic/", REMOTE_ADDR=address)
    assert response.status_code == 200
    page = response.content.decode()
    assert "PyAudio is not installed" in page
    assert "apt install portaudio19-dev" in page and "pip install" in page
    assert "<script>" not in page and "style=" not in page


def test_no_device_message(client, settings, monkeypatch):
    settings.SER_SERVER_MIC = True
    pytest.importorskip("pyaudio")
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse")
    page = client.get("/mic/").content.decode()
    assert "No audio input device found" in page and 'id="mic-start"' not in page
    assert "Connect a microphone to the computer" in page and "portaudio19-dev" not in page


@pytest.mark.django_db(transaction=True)
def test_record_from_the_server_microphone(client, settings, pulse, sentence):
    settings.SER_SERVER_MIC = True
    page = client.get("/mic/").content.decode()
    assert 'id="mic-start"' in page and "mic.js" in page
    response = client.post("/mic/start")
    assert response.status_code == 200 and response.json()["state"] in ("starting", "listening")
    assert client.post("/mic/start").status_code == 409       # one recording at a time
    time.sleep(0.3)
    pulse.play(sentence)
    states, deadline = set(), time.monotonic() + 20
    while time.monotonic() < deadline:
        status = client.get("/mic/status").json()
        states.add(status["state"])
        if status["state"] in ("done", "error"):
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    assert {"listening", "recording"} <= states
    analysis = Analysis.objects.get()
    assert analysis.source == Analysis.Source.SERVER_MIC
    assert status["url"] == f"/analyses/{analysis.uid}/"
    assert client.get(status["url"]).status_code == 200
    assert client.post("/mic/stop").status_code == 409        # nothing running any more


@pytest.mark.django_db(transaction=True)
def test_stop_button_without_speech(client, settings, pulse):
    settings.SER_SERVER_MIC = True
    assert client.post("/mic/start").status_code == 200
    assert client.post("/mic/stop").status_code == 200
    deadline = time.monotonic() + 10
    while mic._current.running and time.monotonic() < deadline:
        time.sleep(0.05)
    status = client.get("/mic/status").json()
    assert status["state"] == "error" and "No speech was heard" in status["error"]
    assert Analysis.objects.count() == 0
    assert client.post("/mic/start", {"device": "x"}).status_code == 400
