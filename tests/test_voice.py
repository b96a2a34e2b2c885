"""Voice profiles through real HTTP requests: the "Adapt to my voice" page, adapted analyses,
learning from later analyses, reset, delete, isolation between owners, and the JSON API."""
import io
import json
import os

import numpy as np
import pytest
from django.test import Client

from classifier.models import Analysis, VoiceProfile
from ml.speaker import ENOUGH_CLIPS
from tests.audio_factory import clip_path
from tests.test_api import conforms, predict, spec, token_client, account  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


def enrol(client, path):
    with open(path, "rb") as f:
        return client.post("/voice/clips", {"file": f})


def analyse(client, path, **fields):
    with open(path, "rb") as f:
        response = client.post("/analyse", {"file": f, "source": "upload", **fields})
    assert response.status_code == 302, response.content[:300]
    return Analysis.objects.get(uid=response["Location"].split("/")[2])


def test_enrol_then_analyses_are_adapted(client, media):
    page = client.get("/voice/").content.decode()
    assert "No voice profile yet" in page and "Kids are talking by the door." in page
    assert 'id="adapt-upload"' not in client.get("/").content.decode()

    for emotion in (1, 2):
        response = enrol(client, clip_path(6, emotion, 1))
        assert response.status_code == 302
    profile = VoiceProfile.objects.get()
    assert profile.clips == 2 and profile.seconds > 2
    assert set(profile.stats) == {"format", "feature_key", "dim", "count", "seconds", "mean", "m2"}
    assert not os.path.exists(media) or not any(files for _, _, files in os.walk(media))
    page = client.get("/voice/").content.decode()
    assert f'max="{ENOUGH_CLIPS}" value="2"' in page and "Reset profile" in page

    home = client.get("/").content.decode()
    assert 'id="adapt-upload" checked' in home and "2 clips" in home
    adapted = analyse(client, clip_path(6, 5), adapt="1")
    assert adapted.adaptation == {"source": "profile", "profile": "My voice", "clips": 2,
                                  "seconds": round(profile.seconds, 1)}
    result = client.get(f"/analyses/{adapted.uid}/").content.decode()
    assert "adapted to your voice profile “My voice” (2 clips" in result
    generic = analyse(client, clip_path(6, 5))          # the switch turned off
    assert generic.adaptation is None
    assert "generic model (not adapted)" in client.get(f"/analyses/{generic.uid}/").content.decode()
    assert adapted.probabilities != generic.probabilities
    assert VoiceProfile.objects.get().clips == 2         # not opted in: analyses do not add


def test_learning_from_later_analyses_is_opt_in(client):
    enrol(client, clip_path(7, 1, 1))
    response = client.post("/voice/settings", {"name": "Sam", "learn": "on"})
    assert response.status_code == 302
    analyse(client, clip_path(7, 3), adapt="1")
    analyse(client, clip_path(7, 4), adapt="1")
    analyse(client, clip_path(7, 6))           # switched off (someone else?): not learnt
    profile = VoiceProfile.objects.get()
    assert profile.name == "Sam" and profile.learn and profile.clips == 3
    client.post("/voice/settings", {"name": "Sam"})
    analyse(client, clip_path(7, 5), adapt="1")
    assert VoiceProfile.objects.get().clips == 3


def test_reset_and_delete(client):
    enrol(client, clip_path(8, 1, 1))
    assert client.post("/voice/reset").status_code == 302
    profile = VoiceProfile.objects.get()
    assert profile.clips == 0 and profile.stats == {} and profile.seconds == 0
    assert analyse(client, clip_path(8, 5), adapt="1").adaptation is None  # nothing to adapt to
    assert "Your voice profile was reset" in client.get("/voice/").content.decode()
    assert client.post("/voice/delete").status_code == 302
    assert not VoiceProfile.objects.exists()
    assert client.post("/voice/delete").status_code == 404
    assert client.post("/voice/reset").status_code == 404


def test_profiles_of_others_are_unreachable(client):
    enrol(client, clip_path(9, 1, 1))
    other = Client()
    page = other.get("/voice/").content.decode()
    assert "No voice profile yet" in page
    assert other.post("/voice/reset").status_code == 404
    assert other.post("/voice/delete").status_code == 404
    assert analyse(other, clip_path(9, 5), adapt="1").adaptation is None
    assert VoiceProfile.objects.get().clips == 1


def test_bad_enrolment_clips_are_explained(client, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nothing")
    response = enrol(client, bad)
    assert response.status_code in (400, 415, 422)
    assert "Accepted" in response.content.decode()
    response = client.post("/voice/clips", {})
    assert response.status_code == 400 and "Choose or record a clip" in response.content.decode()
    assert client.get("/voice/clips").status_code == 405


def test_enrolment_clips_without_speech_are_refused(client, tmp_path):
    """The speech gate guards the profile too: noise or a tone never becomes speaker statistics."""
    import soundfile as sf
    from ml.nonspeech import corpus
    sounds = corpus()
    names = [next(n for n in sounds if n.startswith("white noise")),
             next(n for n in sounds if "440" in n)]
    for name in names:
        path = tmp_path / "sound.wav"
        sf.write(path, sounds[name], 16000)
        response = enrol(client, path)
        assert response.status_code == 400, name
        assert "No speech detected" in response.content.decode(), name
    assert not VoiceProfile.objects.filter(clips__gt=0).exists()


def upload(path):
    with open(path, "rb") as f:
        data = io.BytesIO(f.read())
    data.name = os.path.basename(path)
    return data


def test_api_profiles(token_client, spec, django_user_model):  # noqa: F811
    created = conforms(spec, token_client.post("/api/profiles", json.dumps({"name": "Ann"}),
                                               content_type="application/json"),
                       "/api/profiles", "post")
    pid = created["id"]
    assert created["clips"] == 0 and created["enough_clips"] == ENOUGH_CLIPS
    for emotion in (1, 2, 3):
        body = conforms(spec, token_client.post(f"/api/profiles/{pid}/clips",
                                                {"file": upload(clip_path(4, emotion, 1))}),
                        "/api/profiles/{profile_id}/clips", "post")
    assert body["clips"] == 3 and body["progress"] == pytest.approx(3 / ENOUGH_CLIPS)
    listing = conforms(spec, token_client.get("/api/profiles"), "/api/profiles", "get")
    assert [p["id"] for p in listing["items"]] == [pid]

    adapted = conforms(spec, token_client.post("/api/predict", {"file": upload(clip_path(4, 5)),
                                                                "profile": pid}),
                       "/api/predict", "post")
    assert adapted["adaptation"]["profile"] == "Ann" and adapted["adaptation"]["clips"] == 3
    plain = conforms(spec, predict(token_client, clip_path(4, 5)), "/api/predict", "post")
    assert "adaptation" not in plain

    bad = token_client.post(f"/api/profiles/{pid}/clips", {"file": io.BytesIO(b"junk")})
    assert bad.status_code in (400, 415, 422) and "error" in bad.json()
    missing = token_client.post("/api/predict", {"file": upload(clip_path(4, 5)),
                                                 "profile": "not-a-profile"})
    assert conforms(spec, missing, "/api/predict", "post")["error"].startswith("You have no")
    anonymous = Client().post("/api/predict", {"file": upload(clip_path(4, 5)), "profile": pid})
    assert anonymous.status_code == 401 and "token" in anonymous.json()["error"]
    assert Client().get("/api/profiles").status_code == 401

    from classifier import tokens
    stranger = django_user_model.objects.create_user("stranger", password="another passphrase 2")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(stranger, 't')[1]}")
    assert other.get(f"/api/profiles/{pid}").status_code == 404
    assert other.delete(f"/api/profiles/{pid}").status_code == 404
    assert other.get("/api/profiles").json()["count"] == 0

    reset = conforms(spec, token_client.post(f"/api/profiles/{pid}/reset"),
                     "/api/profiles/{profile_id}/reset", "post")
    assert reset["clips"] == 0
    assert conforms(spec, token_client.delete(f"/api/profiles/{pid}"),
                    "/api/profiles/{profile_id}", "delete") == {"deleted": pid}
    assert token_client.get(f"/api/profiles/{pid}").status_code == 404


@pytest.fixture
def live_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.SER_RATE_LIVE_START = settings.SER_RATE_LIVE_CHUNK = "off"
    return tmp_path / "ser-live"


def speech_stream(actor, emotions):
    """int16 PCM at 16 kHz: several clips of one actor back to back (continuous speech)."""
    import soundfile as sf
    parts = [sf.read(clip_path(actor, e, 1 if e == 1 else 2), dtype="float32")[0]
             for e in emotions]
    return (np.concatenate(parts) * 32767).astype("<i2")


def stream_session(client, adapt, pcm):
    session = client.post(f"/live/start?rate=16000{'&adapt=1' if adapt else ''}").json()
    answers, step = [], 8000
    for i in range(0, len(pcm), step):
        response = client.post(session["chunk_url"], pcm[i:i + step].tobytes(),
                               content_type="application/octet-stream")
        assert response.status_code == 200, response.content
        answers.append(response.json())
    return session, answers


def test_live_session_learns_its_own_speaker(client, live_dir):
    pcm = speech_stream(10, (1, 2, 3, 4, 5, 6, 7, 8, 3, 4))
    session, answers = stream_session(client, True, pcm)
    learnt = [a["voice"]["session_clips"] for a in answers]
    assert learnt == sorted(learnt) and learnt[-1] >= 5
    adapted = [a["entry"]["adaptation"] for a in answers if a["entry"]["adaptation"]]
    assert adapted and all(x["source"] == "session" and x["clips"] >= 4 for x in adapted)
    first = next(i for i, a in enumerate(answers) if a["entry"]["adaptation"])
    assert answers[first - 1]["voice"]["session_clips"] >= 4 - 1   # only after enough speech
    assert not any(a["entry"]["adaptation"] for a in answers[:first])
    assert len(list(live_dir.glob("*.voice"))) == 1
    saved = client.post(session["save_url"])
    assert saved.status_code == 200
    analysis = Analysis.objects.get(uid=saved.json()["id"])
    assert analysis.adaptation["source"] == "session"
    assert not list(live_dir.glob("*"))            # PCM and the speaker state are gone

    _, answers = stream_session(client, False, pcm)     # the switch turned off
    assert not any(a["entry"]["adaptation"] for a in answers)
    assert all(a["voice"] == {"adapt": False} for a in answers)


def test_live_uses_the_voice_profile(client, live_dir):
    enrol(client, clip_path(11, 1, 1))
    session, answers = stream_session(client, True, speech_stream(11, (5, 6)))
    adapted = [a["entry"]["adaptation"] for a in answers if a["entry"]["adaptation"]]
    assert adapted and all(x == {"source": "profile", "profile": "My voice", "clips": 1,
                                 "seconds": adapted[0]["seconds"]} for x in adapted)
    assert client.post(session["discard_url"]).status_code == 200
    assert not list(live_dir.glob("*"))


def test_model_page_reports_the_adapted_model(client):
    html = client.get("/model/").content.decode()
    assert "Emotion accuracy adapted to the speaker" in html
    assert client.get("/voice/").status_code == 200


def test_a_profile_of_other_features_is_not_used_and_never_breaks(client):
    """E.g. a profile made before the model's features changed: the generic model answers,
    learning skips it, adding a clip explains the problem."""
    enrol(client, clip_path(12, 1, 1))
    client.post("/voice/settings", {"name": "Old", "learn": "on"})
    VoiceProfile.objects.update(stats={**VoiceProfile.objects.get().stats, "feature_key": "old"})
    analysis = analyse(client, clip_path(12, 5), adapt="1")
    assert analysis.adaptation is None
    assert VoiceProfile.objects.get().clips == 1
    response = enrol(client, clip_path(12, 2, 1))
    assert response.status_code == 409 and "enrol again" in response.content.decode()
    VoiceProfile.objects.update(stats={"format": "nonsense"})
    assert analyse(client, clip_path(12, 5), adapt="1").adaptation is None
