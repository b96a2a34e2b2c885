"""Hostile and malformed input through the page upload (POST /analyse) and POST /api/predict:
never a 500, a readable 4xx message (or a real result for valid audio), no temporary file left.
Then request-level abuse (missing field, wrong method, lying Content-Length, broken multipart)
and the whole corpus against gunicorn, whose worker must survive all of it."""
import functools
import html
import io
import json
import os
import re
import urllib.error
import urllib.request

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from bench import load
from classifier.models import Analysis
from tests.audio_factory import speech, write
from tests.hostile_corpus import CASES, ERROR, OK
from tests.test_deploy import multipart

pytestmark = pytest.mark.django_db
ENDPOINTS = {"page": "/analyse", "api": "/api/predict"}


@pytest.fixture
def client(django_user_model):
    """A test client with a personal API token, so API results are stored and can be checked."""
    from django.test import Client
    from classifier import tokens
    user = django_user_model.objects.create_user("hostile", password="not used here 1")
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user, 'tests')[1]}")


@pytest.fixture(autouse=True)
def temp_dirs(settings, tmp_path):
    """Uploads and media go to empty folders, so leftovers can be seen."""
    uploads, media = tmp_path / "uploads", tmp_path / "media"
    uploads.mkdir()
    media.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    settings.MEDIA_ROOT = str(media)
    yield uploads
    left = [p for folder in (uploads, media) for p in folder.rglob("*") if p.is_file()]
    assert not left, f"files left behind: {left}"


@functools.cache
def payload(name):
    return next(c for c in CASES if c.name == name).make()


def named(data, filename):
    f = io.BytesIO(data)
    f.name = filename
    return f


def post(client, endpoint, fields):
    return client.post(ENDPOINTS[endpoint], fields, HTTP_ACCEPT="text/html,*/*")


def error_message(endpoint, response):
    """The message the user sees: the API's "error", or the page's error paragraph."""
    if endpoint == "api" or response["Content-Type"].startswith("application/json"):
        return response.json()["error"]
    if response["Content-Type"].startswith("text/plain"):
        return response.content.decode()
    page = response.content.decode()
    found = (re.search(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
             or re.search(r"<h1>Upload refused</h1><p>(.*?)</p>", page, re.S))
    assert found, page[:2000]
    return html.unescape(found.group(1)).strip()


def assert_readable(message):
    assert 10 <= len(message) <= 400, message
    assert "Traceback" not in message and "Exception" not in message, message


def assert_analysed(client, endpoint, response):
    if endpoint == "api":
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["emotion"] in body["probabilities"]
        return Analysis.objects.get(uid=body["id"])
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    assert page.status_code == 200
    analysis = Analysis.objects.latest("id")
    assert analysis.emotion in page.content.decode()
    return analysis


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_corpus(client, endpoint, case):
    response = post(client, endpoint, {"file": named(payload(case.name), case.filename)})
    assert response.status_code < 500, response.content.decode(errors="replace")[:2000]
    if case.expect == OK or (case.expect != ERROR and response.status_code < 400):
        analysis = assert_analysed(client, endpoint, response)
        assert "/" not in analysis.filename and "\\" not in analysis.filename
        return
    assert 400 <= response.status_code < 500
    if case.status:
        assert response.status_code == case.status
    message = error_message(endpoint, response)
    assert_readable(message)
    assert case.message in message


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


def test_file_names_are_reduced_to_their_last_part(client):
    response = post(client, "api", {"file": named(payload("8-bit WAV"), "../../etc/passwd.wav")})
    assert Analysis.objects.get(uid=response.json()["id"]).filename == "passwd.wav"


# --- request-level abuse -----------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_file_field(client, endpoint):
    response = post(client, endpoint, {"audio": named(payload("8-bit WAV"), "a.wav")})
    assert response.status_code in (400, 422)
    assert "file" in error_message(endpoint, response).lower()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_empty_post(client, endpoint):
    response = client.post(ENDPOINTS[endpoint])
    assert response.status_code in (400, 422)
    assert_readable(error_message(endpoint, response))


@pytest.mark.parametrize("method, path", [("get", "/api/predict"), ("delete", "/api/predict"),
                                          ("put", "/analyse"), ("patch", "/analyse"),
                                          ("put", "/api/predict")])
def test_wrong_method(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    message = error_message("api" if path.startswith("/api/") else "page", response)
    assert_readable(message)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"file": "speech.wav"}'),
    ("text/plain", b"file=speech.wav"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data; name=\"fi"),
    ("multipart/form-data; boundary=abc", b"no boundary anywhere in this body"),
    ("multipart/form-data", b"--x\r\n\r\n--x--"),
], ids=["json", "text", "truncated-multipart", "no-boundary-in-body", "no-boundary-param"])
def test_malformed_bodies(client, endpoint, content_type, body):
    response = client.generic("POST", ENDPOINTS[endpoint], body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert_readable(error_message(endpoint, response))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_two_files_in_one_field(client, endpoint):
    response = post(client, endpoint, {"file": [named(payload("8-bit WAV"), "a.wav"),
                                                named(payload("zero bytes"), "b.wav")]})
    assert response.status_code < 500


@pytest.mark.parametrize("path", ENDPOINTS.values())
def test_oversized_request_is_refused_before_reading_it(path):
    """A request declaring 1 TB: 413 from the full Django stack without one byte read."""

    class Unreadable(io.RawIOBase):
        def read(self, *args):
            raise AssertionError("the request body was read")
        readline = readinto = read

    environ = RequestFactory().generic("POST", path, b"").environ
    environ.update({"CONTENT_LENGTH": str(10**12), "wsgi.input": Unreadable(),
                    "CONTENT_TYPE": "multipart/form-data; boundary=x"})
    started = []
    body = b"".join(WSGIHandler()(environ, lambda status, headers: started.append(status)))
    assert started == ["413 Request Entity Too Large"]
    assert b"too large" in body and b"the limit is 25 MB" in body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_limits_follow_the_settings(client, settings, endpoint, tmp_path):
    clip = write(tmp_path / "three.wav", speech(16000, 1), 16000)
    data = open(clip, "rb").read()
    settings.SER_MAX_DURATION_S = 1.5
    response = post(client, endpoint, {"file": named(data, "three.wav")})
    assert response.status_code == 400
    assert "the limit is 2 s" in error_message(endpoint, response)   # 1.5 rounded for display
    settings.SER_MAX_DURATION_S = 600
    settings.SER_MAX_UPLOAD_BYTES = len(data) - 1
    response = post(client, endpoint, {"file": named(data, "three.wav")})
    assert response.status_code == 413
    assert "too large" in error_message(endpoint, response)


# --- the corpus against gunicorn ---------------------------------------------------------------

# Every hostile case, plus a few valid ones to show the worker still analyses afterwards.
SURVIVAL_CASES = [c for c in CASES if c.expect != OK] + [c for c in CASES if c.expect == OK][-4:]


def test_gunicorn_worker_survives_the_corpus(tmp_path):
    env = load.production_env(tmp_path, load.free_port(), WEB_CONCURRENCY=1, GUNICORN_THREADS=2,
                              SER_RATE_API="off",   # ~60 requests from one address, all of
                              SER_REFUSALS_PER_MINUTE=1000)   # which must reach the decoder
    load.prepare(env)
    log_path = tmp_path / "gunicorn.log"
    with load.serve(env, log_path) as (url, proc):
        for case in SURVIVAL_CASES:
            body, boundary = multipart(payload(case.name), filename=case.filename)
            request = urllib.request.Request(url + "/api/predict", data=body, headers={
                "X-Forwarded-Proto": "https",
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    status, answer = response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                status, answer = exc.code, json.loads(exc.read())
            assert status < 500, (case.name, status, answer)
            if case.expect == OK:
                assert status == 200, (case.name, answer)
            elif case.expect == ERROR:
                assert 400 <= status < 500 and case.message in answer["error"], (case.name,
                                                                                   answer)
        assert load.get(url + "/healthz")[0] == 200
        assert proc.poll() is None
    log = log_path.read_text()
    assert log.count("Booting worker with pid") == 1, log
    assert "Traceback" not in log and "Worker exiting" in log
    assert os.listdir(env["UPLOAD_TEMP_DIR"]) == []
