"""Rate limits (django-ratelimit over the shared database cache): analyses, API predictions,
Live sessions and chunks, sign-in/sign-up — 429 with Retry-After and a clear message after the
limit, per client, and allowed again once the window has passed."""
import time

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client

from django_ratelimit.core import _get_window

from classifier import limits, tokens
from tests.audio_factory import clip_path

pytestmark = pytest.mark.django_db


def post_analyse(client):
    return client.post("/analyse", {"source": "upload"})   # no file: a fast 400, still counted


def test_page_analyses_get_429_then_reset(settings):
    settings.SER_RATE_ANALYSE = "2/2s"
    client = Client()
    # Start in the first half of a window's first second: both requests share the window.
    while (_get_window("ip:127.0.0.1", 2) - int(time.time()) != 1
           or time.time() % 1 > 0.5):
        time.sleep(0.05)
    assert post_analyse(client).status_code == 400
    assert post_analyse(client).status_code == 400
    refused = post_analyse(client)
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 2
    assert "Too many requests: the limit is 2 per 2 seconds" in refused.content.decode()
    other = Client(REMOTE_ADDR="10.1.2.3")   # another client is not affected
    assert post_analyse(other).status_code == 400
    assert client.get("/").status_code == 200   # reading is not limited
    time.sleep(wait + 0.2)
    assert post_analyse(client).status_code == 400


def test_api_429_is_json_with_retry_after(settings, django_user_model):
    settings.SER_RATE_API = "1/1h"
    user = django_user_model.objects.create_user("u", password="x long password 1")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user, 't')[1]}")

    def predict(client):
        with open(clip_path(3, 3), "rb") as f:
            return client.post("/api/predict", {"file": f})

    assert predict(api).status_code == 200
    refused = predict(api)
    assert refused.status_code == 429 and refused["Content-Type"] == "application/json"
    assert "limit is 1 per hour" in refused.json()["error"]
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert predict(Client()).status_code == 200   # per account, not shared


def test_live_start_and_chunks_are_limited(settings):
    settings.SER_RATE_LIVE_START, settings.SER_RATE_LIVE_CHUNK = "1/1h", "2/1h"
    client = Client()
    session = client.post("/live/start?rate=16000").json()
    refused = client.post("/live/start?rate=16000")
    assert refused.status_code == 429 and "Too many" in refused.json()["error"]
    chunk = np.zeros(1600, "<i2").tobytes()
    for _ in range(2):
        assert client.post(session["chunk_url"], chunk,
                           content_type="application/octet-stream").status_code == 200
    refused = client.post(session["chunk_url"], chunk, content_type="application/octet-stream")
    assert refused.status_code == 429 and refused.has_header("Retry-After")


def test_sign_in_and_sign_up_are_limited(settings):
    settings.SER_RATE_SIGN_IN = "2/1h"
    client = Client()
    for _ in range(2):
        assert client.post("/account/sign-in", {"username": "x", "password": "y"}
                           ).status_code == 200
    assert client.post("/account/sign-in", {"username": "x", "password": "y"}).status_code == 429
    assert client.get("/account/sign-in").status_code == 200
    assert client.post("/account/sign-up", {}).status_code == 400
    assert client.post("/account/sign-up", {}).status_code == 400
    assert client.post("/account/sign-up", {}).status_code == 429


def test_off_disables_a_limit(settings):
    settings.SER_RATE_ANALYSE = "off"
    client = Client()
    assert all(post_analyse(client).status_code == 400 for _ in range(5))


def test_the_shared_cache_counts_atomically():
    cache.set("n", 0)
    assert [cache.incr("n") for _ in range(3)] == [1, 2, 3]
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_client_ip_behind_proxies(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    settings.SER_PROXY_HOPS = 0
    assert limits.client_ip(request) == "10.0.0.1"   # the header is not trusted by default
    settings.SER_PROXY_HOPS = 1
    assert limits.client_ip(request) == "1.2.3.4"    # what the platform's router saw


def test_shared_cache_and_storage_come_from_the_environment(tmp_path):
    """The database cache by default, Redis with REDIS_URL; S3 storage with a bucket name."""
    import json
    import subprocess
    import sys

    from bench import load
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps([settings.CACHES['default']['BACKEND'], "
            "settings.STORAGES['default']['BACKEND']]))")

    def seen(**extra):
        env = {**load.production_env(tmp_path, 8000), **extra,
               "DJANGO_SETTINGS_MODULE": "sersite.settings"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, cwd=load.ROOT, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert seen() == ["classifier.ratecache.AtomicDatabaseCache",
                      "django.core.files.storage.FileSystemStorage"]
    assert seen(REDIS_URL="redis://cache.internal:6379/0", AWS_STORAGE_BUCKET_NAME="b") == [
        "django.core.cache.backends.redis.RedisCache", "storages.backends.s3.S3Storage"]


def test_malformed_rates_fail_the_system_check(settings):
    from django.core.checks import run_checks
    settings.SER_RATE_API = "lots"
    settings.SER_RATE_ANALYSE = "5/2h"
    errors = [e for e in run_checks() if e.id == "classifier.E001"]
    assert [e.msg for e in errors] == ["SER_RATE_API='lots' is not a rate"]
    assert limits._period("5/2h") == "2 hours" and limits._period("5/m") == "minute"
