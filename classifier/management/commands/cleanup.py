"""`python manage.py cleanup`: delete what a crashed or killed process left behind (run by the
Procfile's release phase before a new version takes traffic)."""
import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from classifier import live, uploads
from classifier.models import Analysis

RECORDINGS = "recordings"


def _stored_files(storage, folder):
    """Names of every file under folder in storage."""
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_files(storage, f"{folder}/{sub}")


def remove_unnamed_recordings(older_than_s):
    """Delete kept-recording files no analysis names; clear the audio of analyses whose file
    is missing. Only items older than older_than_s (a request may be writing newer ones)."""
    storage, cutoff = default_storage, time.time() - older_than_s
    named = set(Analysis.objects.exclude(audio="").values_list("audio", flat=True))
    removed = 0
    if storage.exists(RECORDINGS):
        for name in _stored_files(storage, RECORDINGS):
            if name not in named and storage.get_modified_time(name).timestamp() < cutoff:
                storage.delete(name)
                removed += 1
    missing = [pk for pk, name, created in Analysis.objects.exclude(audio="")
               .values_list("pk", "audio", "created_at").iterator()
               if created.timestamp() < cutoff and not storage.exists(name)]
    Analysis.objects.filter(pk__in=missing).update(audio="")
    return removed, len(missing)


class Command(BaseCommand):
    help = ("Delete temporary uploads, idle Live-mode sessions and kept-recording files that a "
            "crashed or killed server process left behind.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=settings.SER_ORPHAN_AGE_S,
                            help="only items older than this many seconds (default: "
                                 "SER_ORPHAN_AGE_S, longer than any request may take)")

    def handle(self, *args, older_than, **options):
        temp = uploads.remove_temp_files(older_than_s=older_than)
        sessions = live.remove_idle()
        files, rows = remove_unnamed_recordings(older_than)
        self.stdout.write(f"Removed {temp} temporary upload(s), {sessions} idle Live session(s), "
                          f"{files} recording file(s) no analysis names; cleared {rows} "
                          f"missing recording(s).")
