"""`manage.py enrol --out PROFILE FILE...`: make a voice profile from recordings of one speaker.

The work is ml.cli's (shared with `python -m ml enrol`); from the shell, manage.py runs that
directly without setting Django up.
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import cli


class Command(BaseCommand):
    help = cli.ENROL_HELP
    requires_system_checks = []  # no database or URLs needed

    def add_arguments(self, parser):
        cli.add_enrol_arguments(parser)

    def handle(self, *args, **opts):
        try:
            cli.enrol(opts["paths"], opts["out"], opts["name"], opts["add"],
                      opts["model"] or settings.SER_MODEL_PATH, opts["jobs"],
                      write=self.stdout.write)
        except cli.CliError as exc:
            raise CommandError(str(exc)) from None
