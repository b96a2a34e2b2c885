"""Retention: kept audio expires after settings.SER_KEEP_AUDIO_DAYS, whole analyses after
settings.SER_KEEP_RESULTS_DAYS; `python manage.py purge` applies it and also deletes analyses
nobody owns and audio files no analysis refers to (e.g. left by a crash; `manage.py cleanup`
uses the same sweep). Works on the local disk and on object storage alike (through Django's
default storage)."""
import time
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from .models import Analysis

RECORDINGS = "recordings"   # Analysis.audio's upload_to root


def purge(settings, now=None, dry_run=False):
    """Delete what expired; returns counts {"analyses", "audio", "ownerless", "orphan_files"}.

    Orphaned files must be older than settings.SER_ORPHAN_AGE_S (a request may be writing a
    newer one). With dry_run nothing is deleted (the counts say what would be)."""
    now = now or timezone.now()
    counts = {"analyses": 0, "audio": 0, "ownerless": 0, "orphan_files": 0}
    results_cutoff = now - timedelta(days=settings.SER_KEEP_RESULTS_DAYS)
    expired = Analysis.objects.filter(created_at__lt=results_cutoff)
    for key, rows in (("analyses", expired), ("ownerless", Analysis.objects.ownerless())):
        for analysis in rows.only("pk", "audio").iterator():
            counts[key] += 1
            if not dry_run:
                analysis.delete()
    old_audio = (Analysis.objects.exclude(audio="").exclude(pk__in=Analysis.objects.ownerless())
                 .filter(created_at__lt=now - timedelta(days=settings.SER_KEEP_AUDIO_DAYS),
                         created_at__gte=results_cutoff))
    for analysis in old_audio.only("pk", "audio").iterator():
        counts["audio"] += 1
        if not dry_run:
            analysis.audio.delete(save=False)
            Analysis.objects.filter(pk=analysis.pk).update(audio="")
    orphans = unnamed_recordings(settings.SER_ORPHAN_AGE_S, now.timestamp())
    counts["orphan_files"] = len(orphans)
    if not dry_run:
        for name in orphans:
            default_storage.delete(name)
    return counts


def stored_files(folder):
    """Every file name under folder in the default storage (none if it does not exist; on
    object storage a folder is only a key prefix, so it is listed, not tested)."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from stored_files(f"{folder}/{sub}")


def unnamed_recordings(older_than_s, now=None):
    """Kept-recording files no analysis names, older than older_than_s seconds."""
    cutoff = (now or time.time()) - older_than_s
    named = set(Analysis.objects.exclude(audio="").values_list("audio", flat=True))
    return [name for name in stored_files(RECORDINGS) if name not in named
            and default_storage.get_modified_time(name).timestamp() < cutoff]


def remove_unnamed_recordings(older_than_s):
    """Delete kept-recording files no analysis names; clear the audio of analyses whose file
    is missing. Only items older than older_than_s (a request may be writing newer ones).
    Returns (files removed, analyses cleared)."""
    orphans = unnamed_recordings(older_than_s)
    for name in orphans:
        default_storage.delete(name)
    cutoff = time.time() - older_than_s
    missing = [pk for pk, name, created in Analysis.objects.exclude(audio="")
               .values_list("pk", "audio", "created_at").iterator()
               if created.timestamp() < cutoff and not default_storage.exists(name)]
    Analysis.objects.filter(pk__in=missing).update(audio="")
    return len(orphans), len(missing)
