"""`python manage.py cleanup`: delete what a crashed or killed process left behind (run by the
Procfile's release phase before a new version takes traffic)."""
from django.conf import settings
from django.core.management.base import BaseCommand

from classifier import live, uploads
from classifier.retention import remove_unnamed_recordings


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
