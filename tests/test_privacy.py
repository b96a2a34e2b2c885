"""Private by default: two independent clients (A and B, own cookies) through Django's test
client. B reaches nothing of A's on any page, download, plot, CSV, delete, Live or API route
(404, never 403) while A reaches all of it; visitor cookies, old integer URLs, adoption on
sign-in, accounts, API tokens from the account page and share links."""
import csv
import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from classifier import owners, tokens
from classifier.models import Analysis, ApiToken, ShareLink, VoiceProfile
from tests.audio_factory import clip_path

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery 7"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path / "media"


def upload(client, actor=2, emotion=5, keep=True):
    """Analyse a RAVDESS clip as client; returns the Analysis."""
    with open(clip_path(actor, emotion), "rb") as f:
        response = client.post("/analyse", {"file": f, "keep": "on" if keep else ""})
    assert response.status_code == 302, response.content[:300]
    return Analysis.objects.get(uid=response["Location"].split("/")[2])


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def live_session(client):
    response = client.post("/live/start?rate=16000")
    assert response.status_code == 200
    return response.json()


def pcm(seconds=0.5):
    return np.zeros(int(16000 * seconds), "<i2").tobytes()


def signed_up(client, name):
    response = client.post("/account/sign-up", {"username": name, "password1": PASSWORD,
                                                "password2": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(_user(name), 't')[1]}")


def _user(name):
    from django.contrib.auth import get_user_model
    return get_user_model().objects.get(username=name)


# Every route that touches one analysis: (method, URL pattern). B must get 404 on each.
ANALYSIS_ROUTES = [
    ("get", "/analyses/{uid}/"),
    ("get", "/analyses/{uid}/waveform.png"),
    ("get", "/analyses/{uid}/spectrogram.png"),
    ("get", "/analyses/{uid}/audio"),
    ("get", "/analyses/{pk}/"),              # the old integer URL
    ("get", "/analyses/{pk}/audio"),
    ("post", "/analyses/{uid}/share"),
    ("post", "/analyses/{uid}/delete"),       # last: A's own check deletes it
]
LIVE_ROUTES = ["chunk_url", "save_url", "discard_url"]
# The voice-profile pages act on the caller's own profile (no id in the URL).
PROFILE_PAGE_ROUTES = ["/voice/settings", "/voice/reset", "/voice/delete"]
# API routes of one item, for another account's token: all 404.
API_ROUTES = [("get", "/api/analyses/{uid}"), ("delete", "/api/analyses/{uid}"),
              ("get", "/api/profiles/{pid}"), ("post", "/api/profiles/{pid}/clips"),
              ("post", "/api/profiles/{pid}/reset"), ("delete", "/api/profiles/{pid}")]


def test_two_visitors_see_only_their_own(media):
    a, b = Client(), Client()
    mine = upload(a)
    assert mine.visitor and mine.user is None and mine.audio
    session = live_session(a)
    with open(clip_path(2, 1, 1), "rb") as f:
        assert a.post("/voice/clips", {"file": f}).status_code == 302
    voice = VoiceProfile.objects.get()
    assert voice.visitor == mine.visitor
    assert "No voice profile yet" in b.get("/voice/").content.decode()

    # B: 404 on every route of A's analysis, A's items in no list, export or bulk delete.
    for method, pattern in ANALYSIS_ROUTES:
        url = pattern.format(uid=mine.uid, pk=mine.pk)
        response = getattr(b, method)(url)
        assert response.status_code == 404, (url, response.status_code)
        assert mine.filename not in body(response).decode(errors="replace")
    assert str(mine.uid) not in b.get("/history/").content.decode()
    rows = list(csv.DictReader(io.StringIO(body(b.get("/history/export.csv")).decode())))
    assert rows == []
    b.post("/history/delete")
    for key in LIVE_ROUTES:
        data = pcm() if key == "chunk_url" else b""
        response = b.post(session[key], data, content_type="application/octet-stream")
        assert response.status_code == 404 and "does not exist" in response.json()["error"]
    for url in PROFILE_PAGE_ROUTES:
        assert b.post(url, {"name": "stolen", "learn": "on"}).status_code == 404, url
    assert Analysis.objects.filter(pk=mine.pk).exists() and ShareLink.objects.count() == 0
    voice.refresh_from_db()
    assert voice.clips == 1 and voice.name != "stolen"
    assert len(list((media / "..").glob("ser-live/*.pcm"))) == 1

    # A: everything works.
    assert a.get(f"/analyses/{mine.uid}/").status_code == 200
    for kind in ("waveform", "spectrogram"):
        assert body(a.get(f"/analyses/{mine.uid}/{kind}.png")).startswith(b"\x89PNG")
    assert body(a.get(f"/analyses/{mine.uid}/audio")).startswith(b"RIFF")
    assert a.get(f"/analyses/{mine.pk}/")["Location"] == f"/analyses/{mine.uid}/"
    assert a.get(f"/analyses/{mine.pk}/audio")["Location"] == f"/analyses/{mine.uid}/audio"
    assert str(mine.uid) in a.get("/history/").content.decode()
    rows = list(csv.DictReader(io.StringIO(body(a.get("/history/export.csv")).decode())))
    assert [r["id"] for r in rows] == [str(mine.uid)]
    assert a.post(f"/analyses/{mine.uid}/share").status_code == 302
    assert a.post(session["chunk_url"], pcm(), content_type="application/octet-stream"
                  ).status_code == 200
    assert a.post(session["discard_url"]).json() == {"discarded": True}
    assert "No voice profile yet" not in a.get("/voice/").content.decode()
    assert a.post("/voice/settings", {"name": "mine", "learn": ""}).status_code == 302
    assert a.post("/voice/reset").status_code == 302
    assert a.post("/voice/delete").status_code == 302 and not VoiceProfile.objects.exists()
    assert a.post(f"/analyses/{mine.uid}/delete").status_code == 302
    assert not Analysis.objects.exists() and not list(media.rglob("*.wav"))


def test_delete_all_deletes_only_the_callers_items(media):
    a, b = Client(), Client()
    mine, theirs = upload(a), upload(b, 3, 4)
    response = b.post("/history/delete", follow=True)
    assert "Deleted 1 analysis" in response.content.decode()
    assert list(Analysis.objects.all()) == [mine]
    assert a.get(f"/analyses/{mine.uid}/audio").status_code == 200
    assert not Analysis.objects.filter(pk=theirs.pk).exists()


def test_api_tokens_see_only_their_accounts_items():
    a, b = Client(), Client()
    api_a, api_b = signed_up(a, "alice"), signed_up(b, "bob")
    with open(clip_path(4, 3), "rb") as f:
        created = api_a.post("/api/predict", {"file": f}).json()
    uid = created["id"]
    pid = api_a.post("/api/profiles", {"name": "Alice"}, content_type="application/json"
                     ).json()["id"]
    assert Analysis.objects.get(uid=uid).user == _user("alice")
    for method, pattern in API_ROUTES:
        url = pattern.format(uid=uid, pid=pid)
        with open(clip_path(4, 1, 1), "rb") as f:
            extra = {"data": {"file": f}} if url.endswith("/clips") else {}
            response = getattr(api_b, method)(url, **extra)
        assert response.status_code == 404 and "error" in response.json(), (method, url)
    with open(clip_path(4, 5), "rb") as f:
        response = api_b.post("/api/predict", {"file": f, "profile": pid})
    assert response.status_code == 404 and not Analysis.objects.filter(user=_user("bob")).exists()
    assert api_b.get("/api/analyses").json() == {"count": 0, "items": []}
    assert api_b.get("/api/profiles").json()["items"] == []
    assert VoiceProfile.objects.get().name == "Alice"
    assert b.get(f"/analyses/{uid}/").status_code == 404          # B's pages
    assert Client().get(f"/analyses/{uid}/").status_code == 404   # nobody's
    assert api_a.get(f"/api/analyses/{uid}").json()["emotion"] == created["emotion"]
    assert a.get(f"/analyses/{uid}/").status_code == 200          # A's pages show it too
    assert api_a.get("/api/analyses").json()["count"] == 1
    assert api_a.get(f"/api/profiles/{pid}").json()["name"] == "Alice"
    with open(clip_path(4, 1, 1), "rb") as f:
        assert api_a.post(f"/api/profiles/{pid}/clips", {"file": f}).json()["clips"] == 1
    assert api_a.post(f"/api/profiles/{pid}/reset").json()["clips"] == 0
    assert api_a.delete(f"/api/profiles/{pid}").status_code == 200
    assert api_a.delete(f"/api/analyses/{uid}").status_code == 200
    assert not Analysis.objects.exists() and not VoiceProfile.objects.exists()


def test_visitor_cookie_is_signed_httponly_and_long_lived():
    client = Client()
    assert owners.COOKIE not in client.get("/model/").cookies   # only set when needed
    upload(client, keep=False)
    cookie = client.cookies[owners.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600
    visitor = Analysis.objects.get().visitor
    assert str(visitor) in cookie.value and cookie.value != str(visitor)   # value:signature
    forged = Client()
    forged.cookies[owners.COOKIE] = str(visitor)   # the bare id, no signature
    assert 'id="empty"' in forged.get("/history/").content.decode()
    tampered = Client()
    tampered.cookies[owners.COOKIE] = cookie.value[:-2] + "xx"
    assert 'id="empty"' in tampered.get("/history/").content.decode()


def test_public_ids_are_uuids_not_counters():
    client = Client()
    first, second = upload(client, keep=False), upload(client, 3, 3, keep=False)
    assert re.fullmatch(r"[0-9a-f-]{36}", str(first.uid)) and first.uid != second.uid
    html = client.get("/history/").content.decode()
    assert f"/analyses/{first.pk}/" not in html and f"/analyses/{first.uid}/" in html


def test_signing_up_and_in_adopts_the_visitors_items():
    client = Client()
    before = upload(client, keep=False)
    with open(clip_path(2, 1, 1), "rb") as f:
        client.post("/voice/clips", {"file": f})
    signed_up(client, "carol")
    before.refresh_from_db()
    assert before.user == _user("carol") and before.visitor is None
    assert VoiceProfile.objects.get().user == _user("carol")   # every owned model moves
    assert owners.COOKIE not in client.cookies or not client.cookies[owners.COOKIE].value
    assert client.post("/account/sign-out").status_code == 302
    assert 'id="empty"' in client.get("/history/").content.decode()   # signed out: nothing
    assert client.get(f"/analyses/{before.uid}/").status_code == 404
    later = upload(client, 5, 5, keep=False)                          # as a new visitor
    response = client.post("/account/sign-in", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    later.refresh_from_db()
    assert later.user == _user("carol")
    html = client.get("/history/").content.decode()
    assert str(before.uid) in html and str(later.uid) in html


def test_change_password_and_delete_account(media):
    client = Client()
    signed_up(client, "dave")
    kept = upload(client)
    share = ShareLink.objects.create(analysis=kept, token="t" * 32)
    response = client.post("/account/password", {"old_password": PASSWORD,
                                                 "new_password1": "another good passphrase",
                                                 "new_password2": "another good passphrase"})
    assert response.status_code == 302 and _user("dave").check_password("another good passphrase")
    assert client.get("/account/").status_code == 200   # still signed in
    response = client.post("/account/delete", {"password": "wrong"})
    assert response.status_code == 400 and "not your password" in response.content.decode()
    response = client.post("/account/delete", {"password": "another good passphrase"},
                           follow=True)
    assert "Your account and its 1 analysis were deleted" in response.content.decode()
    assert not Analysis.objects.exists() and not ShareLink.objects.filter(pk=share.pk).exists()
    assert not ApiToken.objects.exists() and not list(media.rglob("*.wav"))
    assert client.get("/account/").status_code == 302   # signed out


def test_sign_in_errors_and_lockout(settings):
    Client().post("/account/sign-up", {"username": "erin", "password1": PASSWORD,
                                       "password2": PASSWORD})
    client = Client()
    response = client.post("/account/sign-in", {"username": "erin", "password": "nope"})
    assert response.status_code == 200 and "did not match" in response.content.decode()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/account/sign-in", {"username": "erin", "password": "nope"})
    locked = client.post("/account/sign-in", {"username": "erin", "password": PASSWORD})
    assert locked.status_code == 429 and "locked for 15 minutes" in locked.content.decode()
    assert locked["Retry-After"] == str(15 * 60)
    call_command("axes_reset", verbosity=0)
    assert client.post("/account/sign-in", {"username": "erin", "password": PASSWORD}
                       ).status_code == 302


def test_account_page_makes_and_revokes_tokens():
    client = Client()
    signed_up(client, "frank")
    ApiToken.objects.all().delete()
    response = client.post("/account/tokens", {"name": "laptop"})
    secret = re.search(r'value="(ser_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.name == "laptop" and secret not in str(vars(token)) and secret.startswith(token.prefix)
    assert secret not in client.get("/account/").content.decode()   # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/analyses").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert Client().post(f"/account/tokens/{token.pk}/revoke").status_code == 302  # to sign-in
    assert ApiToken.objects.exists()
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 302
    assert api.get("/api/analyses").status_code == 401


def test_share_links(media):
    owner, stranger = Client(), Client()
    a = upload(owner)
    assert stranger.post(f"/analyses/{a.uid}/share").status_code == 404
    owner.post(f"/analyses/{a.uid}/share")                         # without the audio
    plain = ShareLink.objects.get()
    page = stranger.get(f"/s/{plain.token}/")
    html = page.content.decode()
    assert page.status_code == 200 and a.emotion.capitalize() in html
    assert "/delete" not in html and "share-form" not in html and "not shared" in html
    assert a.filename not in html   # the file name stays private
    assert body(stranger.get(f"/s/{plain.token}/waveform.png")).startswith(b"\x89PNG")
    assert stranger.get(f"/s/{plain.token}/audio").status_code == 404
    assert stranger.get(f"/analyses/{a.uid}/").status_code == 404  # the link opens one page only
    owner.post(f"/analyses/{a.uid}/share", {"with_audio": "on"})
    with_audio = ShareLink.objects.get(with_audio=True)
    assert body(stranger.get(f"/s/{with_audio.token}/audio")).startswith(b"RIFF")
    assert stranger.post(f"/analyses/{a.uid}/share/{plain.pk}/revoke").status_code == 404
    assert owner.post(f"/analyses/{a.uid}/share/{plain.pk}/revoke").status_code == 302
    assert stranger.get(f"/s/{plain.token}/").status_code == 404
    assert stranger.get(f"/s/{with_audio.token}/").status_code == 200
    owner.post(f"/analyses/{a.uid}/delete")
    assert stranger.get(f"/s/{with_audio.token}/").status_code == 404


def test_old_integer_urls_only_redirect_their_owner():
    a = upload(Client(), keep=False)
    owner = Client()
    mine = upload(owner, keep=False)
    assert owner.get(f"/analyses/{mine.pk}/waveform.png")["Location"] == \
        f"/analyses/{mine.uid}/waveform.png"
    assert owner.get(f"/analyses/{a.pk}/").status_code == 404
    assert owner.post(f"/analyses/{mine.pk}/delete").status_code == 405
    assert Analysis.objects.count() == 2


def test_tokens_and_share_links_are_bounded(monkeypatch):
    from classifier import accounts, shares
    monkeypatch.setattr(accounts, "MAX_TOKENS", 2)
    monkeypatch.setattr(shares, "MAX_LINKS", 1)
    client = Client()
    signed_up(client, "gina")   # makes one token
    assert client.post("/account/tokens", {"name": "two"}).status_code == 200
    refused = client.post("/account/tokens", {"name": "three"})
    assert refused.status_code == 400 and "revoke one first" in refused.content.decode()
    assert ApiToken.objects.count() == 2
    a = upload(client, keep=False)
    client.post(f"/analyses/{a.uid}/share")
    page = client.post(f"/analyses/{a.uid}/share", follow=True).content.decode()
    assert "already has 1 share links" in page and ShareLink.objects.count() == 1
