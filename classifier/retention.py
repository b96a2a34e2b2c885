"""Retention: kept audio expires after settings.SER_KEEP_AUDIO_DAYS, whole analyses after
settings.SER_KEEP_RESULTS_DAYS; `python manage.py purge` applies it and also deletes analyses
nobody owns and audio files no analysis refers to (e.g. left by a crash). Works on the local
disk and on object storage alike (through Django's default storage)."""
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from .models import Analysis

KEPT_FOLDER = "recordings"          # Analysis.audio's upload_to root
ORPHAN_GRACE = timedelta(hours=1)   # younger files may belong to an analysis being saved


def purge(settings, now=None, dry_run=False):
    """Delete what expired; returns counts {"analyses", "audio", "ownerless", "orphan_files"}.

    With dry_run nothing is deleted (the counts say what would be)."""
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
    counts["orphan_files"] = remove_orphans(ORPHAN_GRACE, now, dry_run)[0]
    return counts


def remove_orphans(grace=ORPHAN_GRACE, now=None, dry_run=False):
    """Delete the kept-audio files no analysis refers to, and forget the audio of analyses whose
    file is missing (a process killed between saving the row and the file); only what is older
    than grace (a timedelta), as newer items may belong to an analysis being saved. Returns
    (files deleted, analyses whose missing audio was forgotten)."""
    now = now or timezone.now()
    referenced = set(Analysis.objects.exclude(audio="").values_list("audio", flat=True))
    files = 0
    for name in _files(KEPT_FOLDER):
        if name in referenced or default_storage.get_modified_time(name) > now - grace:
            continue
        files += 1
        if not dry_run:
            default_storage.delete(name)
    missing = [pk for pk, name in Analysis.objects.exclude(audio="")
               .filter(created_at__lt=now - grace).values_list("pk", "audio").iterator()
               if not default_storage.exists(name)]
    if not dry_run:
        Analysis.objects.filter(pk__in=missing).update(audio="")
    return files, len(missing)


def _files(folder):
    """Every file name under folder in the default storage (none if it does not exist)."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _files(f"{folder}/{sub}")
