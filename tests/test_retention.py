"""Retention on the local disk: `manage.py purge` deletes kept audio after SER_KEEP_AUDIO_DAYS,
analyses after SER_KEEP_RESULTS_DAYS, analyses nobody owns and orphaned audio files; the pages
say how long things are kept."""
import io
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from classifier.models import Analysis
from tests.test_privacy import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SER_KEEP_AUDIO_DAYS, settings.SER_KEEP_RESULTS_DAYS = 7, 90
    return tmp_path / "media"


def age(analysis, days):
    Analysis.objects.filter(pk=analysis.pk).update(
        created_at=timezone.now() - timedelta(days=days))


def purge(*args):
    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


def test_purge_applies_the_retention_periods(media):
    client = Client()
    fresh, old_audio, expired = upload(client), upload(client, 3, 3), upload(client, 4, 4)
    age(old_audio, 8)
    age(expired, 91)
    ownerless = upload(client, 5, 5, keep=False)
    Analysis.objects.filter(pk=ownerless.pk).update(visitor=None)
    orphan = media / "recordings" / "2020" / "01" / "lost.wav"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"RIFF")
    os.utime(orphan, (0, 0))
    young_orphan = media / "recordings" / "being-saved.wav"
    young_orphan.write_bytes(b"RIFF")
    files_before = sorted(p.name for p in media.rglob("*.wav"))

    summary = purge("--dry-run")
    assert summary.startswith("Would delete: 1 expired analyses (older than 90 days), 1 kept "
                              "recordings (older than 7 days), 1 analyses without an owner, "
                              "1 orphaned audio files.")
    assert sorted(p.name for p in media.rglob("*.wav")) == files_before
    assert Analysis.objects.count() == 4

    assert purge().startswith("Deleted: 1 expired analyses")
    assert set(Analysis.objects.values_list("pk", flat=True)) == {fresh.pk, old_audio.pk}
    old_audio.refresh_from_db()
    assert not old_audio.audio   # the result stays, the recording is gone
    assert client.get(f"/analyses/{old_audio.uid}/audio").status_code == 404
    assert client.get(f"/analyses/{old_audio.uid}/").status_code == 200
    assert client.get(f"/analyses/{fresh.uid}/audio").status_code == 200
    left = {p.name for p in media.rglob("*") if p.is_file()}
    assert left == {os.path.basename(fresh.audio.name), "being-saved.wav"}
    assert purge().startswith("Deleted: 0 expired analyses (older than 90 days), 0 kept")


def test_purge_clears_expired_sessions():
    from django.contrib.sessions.models import Session
    Session.objects.create(session_key="x" * 32, session_data="",
                           expire_date=timezone.now() - timedelta(days=1))
    purge()
    assert not Session.objects.exists()


def test_purge_with_no_media_folder_yet():
    assert "0 orphaned audio files" in purge()


def test_pages_say_how_long_things_are_kept():
    client = Client()
    home = client.get("/").content.decode()
    assert "stored on the server for 7 days" in home and "Only you can play it" in home
    kept = upload(client)
    assert "kept on the server for 7 days" in client.get(f"/analyses/{kept.uid}/").content.decode()
    history = client.get("/history/").content.decode()
    assert "Only you see this history" in history and "after 90 days" in history
