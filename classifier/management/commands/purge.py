"""`python manage.py purge`: delete expired kept audio and analyses, analyses nobody owns,
orphaned audio files and expired sign-in sessions (README "Privacy"). Run it daily (a PaaS scheduler or cron)."""
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from classifier.retention import purge


class Command(BaseCommand):
    help = ("Delete kept audio older than SER_KEEP_AUDIO_DAYS, analyses older than "
            "SER_KEEP_RESULTS_DAYS, analyses without an owner and orphaned audio files.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="only count what would be deleted")

    def handle(self, *args, dry_run=False, **options):
        counts = purge(settings, dry_run=dry_run)
        if not dry_run:
            call_command("clearsessions")   # expired sign-in sessions
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb}: {counts['analyses']} expired analyses (older than "
            f"{settings.SER_KEEP_RESULTS_DAYS:g} days), {counts['audio']} kept recordings "
            f"(older than {settings.SER_KEEP_AUDIO_DAYS:g} days), {counts['ownerless']} "
            f"analyses without an owner, {counts['orphan_files']} orphaned audio files.")
