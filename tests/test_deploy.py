"""Deployment: settings from the environment, `check --deploy`, security headers and CSP, the
Procfile's web process under gunicorn (HTTPS redirect, hashed static files, graceful SIGTERM),
refusing to start on a bad model, and /healthz."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench import load
from classifier import health, services
from tests.artifact_files import read_outer, write_outer
from tests.audio_factory import speech, write

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = ROOT / "ml" / "models" / "default.pkl"


def run(args, env, timeout=120):
    """Run a command in the repo with env; returns CompletedProcess (stdout+stderr text)."""
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def manage(env, *args):
    return run([sys.executable, "manage.py", *args], env)


def settings_dump(env):
    """The settings a process started with env sees (as JSON-able values)."""
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "db = settings.DATABASES['default']; print(json.dumps({'DEBUG': settings.DEBUG, "
            "'ALLOWED_HOSTS': settings.ALLOWED_HOSTS, 'CSRF': settings.CSRF_TRUSTED_ORIGINS, "
            "'ENGINE': db['ENGINE'], 'NAME': str(db['NAME']), 'HOST': db.get('HOST', ''), "
            "'MEDIA_ROOT': str(settings.MEDIA_ROOT), 'STATIC': settings.STORAGES['staticfiles']"
            "['BACKEND']}))")
    out = run([sys.executable, "-c", code], {**env, "DJANGO_SETTINGS_MODULE": "sersite.settings"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_check_deploy_is_clean(tmp_path):
    env = load.production_env(tmp_path, 8000, ALLOWED_HOSTS="ser.example.com",
                              CSRF_TRUSTED_ORIGINS="https://ser.example.com")
    out = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout
    assert "WARNINGS" not in out.stdout + out.stderr


def test_secret_key_required_unless_debug(tmp_path):
    env = load.production_env(tmp_path, 8000)
    del env["SECRET_KEY"]
    out = manage(env, "check")
    assert out.returncode != 0
    assert "Set SECRET_KEY in the environment" in out.stderr
    assert manage({**env, "DEBUG": "1"}, "check").returncode == 0


def test_settings_come_from_the_environment(tmp_path):
    env = load.production_env(tmp_path, 8000, ALLOWED_HOSTS="a.example.com, b.example.com",
                              CSRF_TRUSTED_ORIGINS="https://a.example.com",
                              MEDIA_ROOT=tmp_path / "m",
                              DATABASE_URL="postgres://u:p@db.internal:5432/ser")
    seen = settings_dump(env)
    assert seen["DEBUG"] is False
    assert seen["ALLOWED_HOSTS"] == ["a.example.com", "b.example.com"]
    assert seen["CSRF"] == ["https://a.example.com"]
    assert seen["ENGINE"] == "django.db.backends.postgresql"
    assert (seen["NAME"], seen["HOST"]) == ("ser", "db.internal")
    assert seen["MEDIA_ROOT"] == str(tmp_path / "m")
    assert seen["STATIC"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    del env["DATABASE_URL"]
    default = settings_dump(env)
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"].endswith("db.sqlite3")


@pytest.mark.django_db
def test_tests_run_on_the_database_named_by_database_url():
    """In CI's second run DATABASE_URL points at PostgreSQL: make sure it is really used."""
    from django.db import connection
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    assert connection.vendor == expected


@pytest.mark.django_db
def test_security_headers_and_csp(client):
    response = client.get("/model/", secure=True)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["media-src"] == "'self' blob:"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "microphone=(self)" in response.headers["Permissions-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy",
                    "X-Content-Type-Options", "Referrer-Policy")


@pytest.mark.django_db
@pytest.mark.parametrize("path, body, length, status", [
    ("/analyse", b"", str(10**12), 413),                       # declared too large
    ("/api/predict", b"", str(10**12), 413),
    ("/analyse", b"--x\r\n\r\n--x--", None, 400),               # multipart without boundary
    ("/api/predict", b"--x\r\n\r\n--x--", None, 400),
], ids=["page-413", "api-413", "page-400", "api-400"])
def test_early_refusals_carry_the_security_headers(client, path, body, length, status):
    extra = {"CONTENT_LENGTH": length} if length else {}
    kind = "multipart/form-data" + ("; boundary=abc" if length else "")
    response = client.generic("POST", path, body, secure=True, content_type=kind, **extra)
    assert response.status_code == status
    for header in SECURITY_HEADERS:
        assert header in response.headers, (header, dict(response.headers))
    assert response.headers["X-Frame-Options"] == "DENY"


INLINE_CODE = [
    # (a JSON data block is not code: the CSP does not apply to it)
    (re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I),
     "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on...= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_no_inline_code():
    """The CSP allows scripts and styles only from static files (no 'unsafe-inline')."""
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE_CODE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "\n".join(problems)


# --- /healthz and model loading at start -------------------------------------------------------

@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": "loaded", "database": "ok"}
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_503_without_a_model(client, settings, monkeypatch, tmp_path):
    monkeypatch.setattr(services, "_predictor", None)
    settings.SER_MODEL_PATH = str(tmp_path / "missing.pkl")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "model": "unavailable", "database": "ok"}


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    """A real connection attempt to a closed port (nothing listens on 127.0.0.1:9)."""
    env = load.production_env(tmp_path, 8000, ALLOWED_HOSTS="testserver",
                              DATABASE_URL="postgres://ser:ser@127.0.0.1:9/nowhere",
                              DJANGO_SETTINGS_MODULE="sersite.settings")
    code = ("import django; django.setup(); from django.test import Client; "
            "r = Client().get('/healthz'); print(r.status_code, r.content.decode())")
    out = run([sys.executable, "-c", code], env)
    assert out.returncode == 0, out.stderr
    status, body = out.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "model": "loaded",
                                "database": "unreachable"}


def incompatible_model(path):
    """A copy of the bundled model that claims an old scikit-learn."""
    outer = read_outer(BUNDLED_MODEL)
    outer["metadata"]["libraries"]["scikit-learn"] = "0.24.2"
    write_outer(outer, path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("missing", "No model file"),
    ("corrupt", "is corrupt"),
    ("incompatible", "trained with scikit-learn 0.24.2"),
])
def test_server_refuses_to_start_with_a_bad_model(kind, message, settings, monkeypatch,
                                                  tmp_path, caplog):
    path = tmp_path / "model.pkl"
    if kind == "corrupt":
        path.write_bytes(BUNDLED_MODEL.read_bytes()[:5000])
    elif kind == "incompatible":
        incompatible_model(path)
    monkeypatch.setattr(services, "_predictor", None)
    settings.SER_MODEL_PATH = str(path)
    with pytest.raises(SystemExit) as exit_info:
        health.load_model_or_exit()
    assert exit_info.value.code == health.BOOT_FAILURE_EXIT_CODE
    [record] = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert record.getMessage().startswith(f"Refusing to start: cannot load the model {path}")
    assert message in record.getMessage()


def test_gunicorn_refuses_to_start_with_a_corrupt_model(tmp_path):
    corrupt = tmp_path / "model.pkl"
    corrupt.write_bytes(b"not a model at all")
    env = load.production_env(tmp_path, load.free_port(), SER_MODEL_PATH=corrupt,
                              WEB_CONCURRENCY=1)
    out = run(["sh", "-c", "exec " + load.procfile("web")], env, timeout=180)
    assert out.returncode == 3, out.stdout + out.stderr
    log = out.stdout + out.stderr
    assert f"CRITICAL classifier.health: Refusing to start: cannot load the model {corrupt}" in log
    assert "Booting worker" not in log  # the master loads the app before forking any worker


# --- the Procfile's web process ----------------------------------------------------------------

@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """gunicorn started like the Procfile (after the release command and collectstatic)."""
    folder = tmp_path_factory.mktemp("deploy")
    env = load.production_env(folder, load.free_port(), WEB_CONCURRENCY=1, GUNICORN_THREADS=2)
    load.prepare(env)
    log_path = folder / "gunicorn.log"
    with load.serve(env, log_path) as (url, proc):
        yield url, proc, folder, log_path


HTTPS = {"X-Forwarded-Proto": "https"}


def test_http_is_redirected_to_https_except_healthz(deployed):
    url = deployed[0]
    opener = urllib.request.build_opener(load.NoRedirect)
    try:
        opener.open(url + "/")
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as exc:
        assert exc.code == 301
        assert exc.headers["Location"] == url.replace("http://", "https://") + "/"
    status, _, body = load.get(url + "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_pages_and_hashed_static_files(deployed):
    url, _, folder, _ = deployed
    status, headers, body = load.get(url + "/history/", HTTPS)
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "Secure" in headers.get("Set-Cookie", "Secure")
    css = re.search(r'href="(/static/classifier/style\.[0-9a-f]{12}\.css)"', body.decode())
    assert css, "stylesheet not served from the manifest (hashed name)"
    request = urllib.request.Request(url + css.group(1), headers={**HTTPS,
                                                                  "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] in ("gzip", "br")
        assert "immutable" in response.headers["Cache-Control"]
    assert (folder / "static" / "staticfiles.json").exists()
    for path in ("/", "/model/", "/api/docs", "/model/confusion.png"):   # manifest entries exist
        status, headers, body = load.get(url + path, HTTPS)
        assert status == 200, (path, body[:500])
        assert "Content-Security-Policy" in headers


def test_sigterm_finishes_the_request_in_flight_then_exits(deployed, tmp_path):
    """Half the upload is sent, then SIGTERM, then the rest: the request is provably in flight
    when the signal arrives, and must still be answered before the server exits."""
    url, proc, _, log_path = deployed
    wav = write(tmp_path / "speech.wav", np.tile(speech(16000, 1), (2, 1)), 16000)
    body, boundary = multipart(Path(wav).read_bytes())
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    conn.putrequest("POST", "/api/predict")
    for name, value in {**HTTPS, "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(body[: len(body) // 2])
    time.sleep(1.0)   # a worker thread has accepted the request and waits for the rest
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    conn.send(body[len(body) // 2:])
    response = conn.getresponse()
    answer = json.loads(response.read())
    assert response.status == 200, answer
    assert answer["emotion"] in answer["probabilities"]
    assert proc.wait(60) == 0
    log = log_path.read_text()
    assert "Handling signal: term" in log
    assert "Shutting down: Master" in log


def multipart(data, field="file", filename="speech.wav"):
    """A multipart/form-data body holding one file; returns (body, boundary)."""
    boundary = "----ser-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary
