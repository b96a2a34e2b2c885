"""`manage.py predict PATH... [--json]`: classify audio files and folders with the model."""
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import ModelError, Predictor
from ml.batch import expand_paths, predict_many


class Command(BaseCommand):
    help = "Predict the emotion (and speaker gender) of audio files; folders are searched recursively."
    requires_system_checks = []  # no database or URLs needed: skip importing the whole site

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="audio files and/or folders")
        parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
        parser.add_argument("--model", default=None, help="model artifact (default: bundled)")
        parser.add_argument("--jobs", type=int, default=-1,
                            help="feature-extraction processes (default -1: all cores; the "
                                 "model is loaded once and results keep the input order)")

    def handle(self, *args, **opts):
        if opts["jobs"] == 0:
            raise CommandError("--jobs must be a positive number of processes or -1 (all cores).")
        try:
            predictor = Predictor.from_path(opts["model"] or settings.SER_MODEL_PATH)
        except ModelError as exc:
            raise CommandError(str(exc))
        files = expand_paths(opts["paths"])
        if not files:
            raise CommandError("No audio files found in the given folders.")
        failed = 0
        if not opts["json"]:
            self.stdout.write(f"{'file':<50} {'emotion':<10} {'conf':>5}  {'gender':<13} {'dur_s':>5}")
        for result in predict_many(predictor, files, jobs=opts["jobs"]):
            failed += "error" in result
            self.stdout.write(json.dumps(result) if opts["json"] else self._row(result))
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) could not be analysed.")

    @staticmethod
    def _row(r):
        name = r["file"] if len(r["file"]) <= 50 else "…" + r["file"][-49:]
        if "error" in r:
            return f"{name:<50} ERROR: {r['error']}"
        gender = f"{r['gender']} {r['gender_confidence']:.0%}"
        return (f"{name:<50} {r['emotion']:<10} {r['confidence']:>5.0%}  {gender:<13} "
                f"{r['duration_s']:>5.1f}")
