"""Kept recordings on S3-compatible object storage (django-storages + boto3) against a real
local server (moto_server, tests/s3server.py): upload, play (streamed through Django to the owner
only), delete, purge, and a restart of the app process between keeping and playing."""
import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bench import load
from classifier import retention
from classifier.models import Analysis
from tests.audio_factory import clip_path
from tests.s3server import s3  # noqa: F401  (fixture)
from tests.test_deploy import multipart
from tests.test_privacy import body, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3, settings, tmp_path):  # noqa: F811
    name = s3.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3.storage(name)}
    settings.MEDIA_ROOT = str(tmp_path / "media")   # must stay empty
    yield name
    assert not (tmp_path / "media").exists()


def test_keep_play_delete_on_object_storage(s3, bucket, settings):  # noqa: F811
    owner, other = Client(), Client()
    kept = upload(owner)
    assert s3.keys(bucket) == [kept.audio.name] and kept.audio.name.startswith("recordings/")
    stored = s3.client.get_object(Bucket=bucket, Key=kept.audio.name)["Body"].read()
    assert stored == open(clip_path(2, 5), "rb").read()
    acl = s3.client.get_object_acl(Bucket=bucket, Key=kept.audio.name)["Grants"]
    assert not any("AllUsers" in json.dumps(g) for g in acl)   # not public
    played = owner.get(f"/analyses/{kept.uid}/audio")
    assert played.status_code == 200 and body(played) == stored
    assert played["Cache-Control"] == "private, no-store"
    assert other.get(f"/analyses/{kept.uid}/audio").status_code == 404
    assert "amazonaws" not in owner.get(f"/analyses/{kept.uid}/").content.decode()
    assert owner.post(f"/analyses/{kept.uid}/delete").status_code == 302
    assert s3.keys(bucket) == []


def test_purge_on_object_storage(s3, bucket, settings):  # noqa: F811
    settings.SER_KEEP_AUDIO_DAYS = 7
    client = Client()
    fresh, old = upload(client), upload(client, 3, 3)
    Analysis.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    s3.client.put_object(Bucket=bucket, Key="recordings/2020/01/orphan.wav", Body=b"RIFF")
    counts = retention.purge(settings, now=timezone.now() + timedelta(hours=2))
    assert counts == {"analyses": 0, "audio": 1, "ownerless": 0, "orphan_files": 1}
    assert s3.keys(bucket) == [fresh.audio.name]
    assert client.get(f"/analyses/{old.uid}/audio").status_code == 404
    assert body(client.get(f"/analyses/{fresh.uid}/audio")).startswith(b"RIFF")


class Browser:
    """A tiny HTTPS-behind-a-proxy client for a gunicorn on loopback: cookies, CSRF, no
    redirects followed."""

    def __init__(self, url):
        self.url, self.cookies = url, {}
        self.opener = urllib.request.build_opener(load.NoRedirect)

    def request(self, path, data=None, headers=None):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{self.url[7:]}/",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   **(headers or {})}
        try:
            response = self.opener.open(urllib.request.Request(self.url + path, data=data,
                                                               headers=headers), timeout=120)
        except urllib.error.HTTPError as exc:
            response = exc
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, response.read()


def test_kept_recording_survives_an_app_restart(s3, tmp_path):  # noqa: F811
    bucket = s3.new_bucket()
    env = load.production_env(tmp_path, load.free_port(), WEB_CONCURRENCY=1,
                              **s3.env(bucket))
    load.prepare(env)
    clip = open(clip_path(1, 5), "rb").read()
    with load.serve(env, tmp_path / "first.log") as (url, _):
        browser = Browser(url)
        _, _, home = browser.request("/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', home).group(1)
        data, boundary = multipart(clip, filename="kept.wav")
        fields = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"keep\"\r\n\r\non\r\n"
                  f"--{boundary}\r\nContent-Disposition: form-data; "
                  f"name=\"csrfmiddlewaretoken\"\r\n\r\n{token.decode()}\r\n").encode()
        status, headers, _ = browser.request("/analyse", fields + data, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 302, headers
        result = headers["Location"].split("?")[0]
    assert len(s3.keys(bucket)) == 1
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]   # none on disk

    env["PORT"] = str(load.free_port())   # a new process (and address), same database/bucket
    with load.serve(env, tmp_path / "second.log") as (url, _):
        browser.url = url
        status, headers, audio = browser.request(result + "audio")
        assert status == 200 and audio == clip
        stranger = Browser(url)
        assert stranger.request(result + "audio")[0] == 404
