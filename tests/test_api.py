"""The JSON API through Django's test client, every answer checked against /api/schema."""
import io
import json

import jsonschema
import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from openapi_spec_validator import validate as validate_spec

from classifier.models import Analysis
from ml.dataset import EMOTIONS
from tests.audio_factory import clip_path, speech, write
from tests.test_web import FORMATS

pytestmark = pytest.mark.django_db

PREDICT_KEYS = {"emotion", "confidence", "probabilities", "gender", "gender_confidence",
                "duration_s", "processing_ms", "uncertain", "top_two"}


@pytest.fixture(scope="module")
def spec():
    response = Client().get("/api/schema")
    assert response.status_code == 200
    document = response.json()
    validate_spec(document)
    return document


def conforms(spec, response, path, method):
    """Assert the response body matches the schema the spec gives for its status code."""
    documented = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (response.status_code, response.content)
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    body = response.json()
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)
    return body


@pytest.fixture
def account(django_user_model):
    return django_user_model.objects.create_user("api-user", password="a long passphrase 1")


@pytest.fixture
def token_client(account):
    """A client sending a personal API token of `account`."""
    from classifier import tokens
    _, secret = tokens.create(account, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def predict(client, path, name=None):
    with open(path, "rb") as f:
        data = f.read()
    upload = io.BytesIO(data)
    upload.name = name or str(path).rsplit("/", 1)[-1]
    return client.post("/api/predict", {"file": upload})


def test_schema_documents_the_api(spec):
    assert spec["openapi"].startswith("3.")
    assert {"/api/predict", "/api/model", "/api/analyses",
            "/api/analyses/{analysis_id}"} <= set(spec["paths"])
    bearer = spec["components"]["securitySchemes"]["TokenAuth"]
    assert bearer == {"type": "http", "scheme": "bearer"}
    assert spec["paths"]["/api/predict"]["post"]["security"] == [{"TokenAuth": []}, {}]
    for path, method in [("/api/analyses", "get"), ("/api/analyses/{analysis_id}", "get"),
                         ("/api/analyses/{analysis_id}", "delete")]:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"TokenAuth": []}]
        assert {"401"} <= set(operation["responses"])
    body = spec["paths"]["/api/predict"]["post"]["requestBody"]["content"]["multipart/form-data"]
    schema = body["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert schema["required"] == ["file"] and schema["properties"]["file"]["format"] == "binary"
    for status in ("200", "400", "413", "422"):
        assert status in spec["paths"]["/api/predict"]["post"]["responses"]


def test_uncertain_answers_are_flagged_with_the_top_two(client, spec):
    """The `uncertain` flag follows the model's cross-validated threshold on the calibrated top
    probability, and `top_two` lists the two most likely emotions (documented in the schema)."""
    documented = spec["components"]["schemas"]["PredictionOut"]["properties"]
    assert "threshold" in documented["uncertain"]["description"]
    assert documented["top_two"]["type"] == "array"
    threshold = services_threshold()
    seen = set()
    for actor, emotion in ((a, e) for a in (1, 2, 3, 4) for e in range(1, 9)):
        if len(seen) == 2:
            break
        body = conforms(spec, predict(client, clip_path(actor, emotion, intensity=1)),
                        "/api/predict", "post")
        ranked = sorted(body["probabilities"], key=body["probabilities"].get, reverse=True)
        assert body["top_two"] == ranked[:2] and body["top_two"][0] == body["emotion"]
        assert body["uncertain"] == (body["confidence"] < threshold)
        seen.add(body["uncertain"])
    assert seen == {True, False}  # normal-intensity clips give both kinds of answer


def services_threshold():
    from classifier import services
    return services.get_predictor().uncertain_below


def test_predict_matches_the_predict_command(token_client, spec, account):
    client = token_client
    path = clip_path(9, 5)
    body = conforms(spec, predict(client, path), "/api/predict", "post")
    assert set(body) == PREDICT_KEYS | {"id"}
    out = io.StringIO()
    call_command("predict", path, "--json", stdout=out)
    command = json.loads(out.getvalue())
    assert body["emotion"] == command["emotion"] and body["gender"] == command["gender"]
    for emotion in EMOTIONS:
        assert body["probabilities"][emotion] == pytest.approx(command["probabilities"][emotion],
                                                               abs=1e-6)
    assert body["duration_s"] == command["duration_s"]
    assert body["uncertain"] == command["uncertain"] and body["top_two"] == command["top_two"]
    stored = Analysis.objects.get(uid=body["id"])
    assert stored.source == "api" and not stored.audio and stored.user == account
    again = conforms(spec, client.get(f"/api/analyses/{body['id']}"),
                     "/api/analyses/{analysis_id}", "get")
    assert again == {**body, "processing_ms": stored.processing_ms}


@pytest.mark.parametrize("ext", ["m4a", "webm", "mp3"])
def test_predict_phone_and_browser_formats(client, spec, tmp_path, ext):
    body = conforms(spec, predict(client, FORMATS[ext](tmp_path / f"a.{ext}")), "/api/predict",
                    "post")
    assert body["emotion"] in EMOTIONS and body["gender"] == "male"


def test_long_clip_has_segments(client, spec, tmp_path):
    y = np.concatenate([speech(16000, 1, 2, e) for e in (3, 5, 4)])
    body = conforms(spec, predict(client, write(tmp_path / "long.wav", y, 16000)),
                    "/api/predict", "post")
    segments = body["segments"]
    assert len(segments) >= 2
    assert all(s["emotion"] in EMOTIONS or s["emotion"] == "silence" for s in segments)
    # windows run from the first speech to the last (the clips' own silences: ~1 s each)
    assert 0.3 < segments[0]["start_s"] < 1.5
    assert len(y) / 16000 - 1.5 < segments[-1]["end_s"] < len(y) / 16000
    assert all(0 <= s["speech_s"] <= s["end_s"] - s["start_s"] + 1e-6 for s in segments)


@pytest.mark.parametrize("make,status,message", [
    (lambda p: p.write_bytes(b"not audio at all") or p, 400, "unrecognised"),
    (lambda p: write(p, np.zeros((32000, 1), np.float32), 16000), 400, "no speech"),
    (lambda p: p.write_bytes(b"") or p, 400, "empty"),
])
def test_bad_files_give_json_errors(client, spec, tmp_path, make, status, message):
    path = tmp_path / "bad.wav"
    make(path)
    response = predict(client, path)
    body = conforms(spec, response, "/api/predict", "post")
    assert response.status_code == status and message in body["error"].lower()
    assert not Analysis.objects.exists()


def test_missing_file_field(client, spec):
    response = client.post("/api/predict", {"audio": io.BytesIO(b"x")})
    body = conforms(spec, response, "/api/predict", "post")
    assert response.status_code == 422 and "file" in body["error"]
    response = client.post("/api/predict", data=b"{}", content_type="application/json")
    assert response.status_code == 422 and "error" in response.json()


def test_oversized_file(client, spec, settings, tmp_path):
    settings.SER_MAX_UPLOAD_BYTES = 40_000
    response = predict(client, write(tmp_path / "big.wav", speech(44100, 2), 44100))
    body = conforms(spec, response, "/api/predict", "post")
    assert response.status_code == 413 and "too large" in body["error"]


def test_api_is_csrf_exempt():
    strict = Client(enforce_csrf_checks=True)
    assert predict(strict, clip_path(10, 2)).status_code == 200


def test_model_endpoint(client, spec):
    body = conforms(spec, client.get("/api/model"), "/api/model", "get")
    assert sorted(body["emotions"]) == sorted(EMOTIONS)
    assert body["evaluation"]["protocol"].startswith("5-fold grouped by actor")
    assert 0.3 < body["evaluation"]["accuracy_mean"] < 1
    assert "source" not in body["training_data"]  # no server paths
    assert body["training_data"]["clips"] > 0


def test_unknown_analysis(token_client, spec):
    for unknown in ("987654", "00000000-0000-4000-8000-000000000000"):
        response = token_client.get(f"/api/analyses/{unknown}")
        body = conforms(spec, response, "/api/analyses/{analysis_id}", "get")
        assert response.status_code == 404 and unknown in body["error"]


def test_without_a_token_predict_answers_but_stores_nothing(client, spec):
    body = conforms(spec, predict(client, clip_path(9, 3)), "/api/predict", "post")
    assert body["emotion"] in EMOTIONS and "id" not in body
    assert not Analysis.objects.exists()
    assert not client.cookies  # the API sets no visitor cookie


@pytest.mark.parametrize("path,method", [("/api/analyses", "get"),
                                         ("/api/analyses/{analysis_id}", "get"),
                                         ("/api/analyses/{analysis_id}", "delete")])
@pytest.mark.parametrize("header", [None, "Bearer ser_not-a-token", "Basic dTpw"])
def test_missing_or_bad_token_is_a_json_401(client, spec, path, method, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    url = path.replace("{analysis_id}", "00000000-0000-4000-8000-000000000000")
    response = getattr(client, method)(url, **extra)
    body = conforms(spec, response, path, method)
    assert response.status_code == 401 and "token" in body["error"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_bad_token_on_predict_is_401_not_anonymous(client, spec):
    response = predict(Client(HTTP_AUTHORIZATION="Bearer ser_revoked"), clip_path(9, 3))
    body = conforms(spec, response, "/api/predict", "post")
    assert response.status_code == 401 and "token" in body["error"]
    assert not Analysis.objects.exists()


def test_token_lists_reads_and_deletes_its_analyses(token_client, spec):
    ids = [conforms(spec, predict(token_client, clip_path(3, e)), "/api/predict", "post")["id"]
           for e in (3, 4)]
    listing = conforms(spec, token_client.get("/api/analyses"), "/api/analyses", "get")
    assert listing["count"] == 2 and [a["id"] for a in listing["items"]] == ids[::-1]
    page = token_client.get("/api/analyses?limit=1&offset=1").json()
    assert [a["id"] for a in page["items"]] == ids[:1]
    response = token_client.delete(f"/api/analyses/{ids[0]}")
    assert conforms(spec, response, "/api/analyses/{analysis_id}", "delete") == {"deleted": ids[0]}
    assert token_client.get(f"/api/analyses/{ids[0]}").status_code == 404
    assert token_client.delete(f"/api/analyses/{ids[0]}").status_code == 404
    assert token_client.get("/api/analyses").json()["count"] == 1
