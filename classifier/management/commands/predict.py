"""`manage.py predict PATH... [--json]`: classify audio files and folders with the model.

The work is ml.cli's (shared with `python -m ml predict`); from the shell, manage.py runs that
directly without setting Django up.
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import cli


class Command(BaseCommand):
    help = cli.HELP
    requires_system_checks = []  # no database or URLs needed

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **opts):
        try:
            cli.run(opts["paths"], opts["json"], opts["model"] or settings.SER_MODEL_PATH,
                    opts["jobs"], write=self.stdout.write, profile=opts["profile"],
                    same_speaker=opts["same_speaker"])
        except cli.CliError as exc:
            raise CommandError(str(exc)) from None
