"""The prediction command line, without Django:

    python -m ml predict PATH... [--json] [--model PATH] [--jobs N]

`manage.py predict` is this same command: manage.py hands it straight here, so answering from
the shell does not wait for Django's app registry (about a third of a second); the Django
management command (call_command("predict", ...)) runs the same run() with the project's
settings.SER_MODEL_PATH.
"""
import argparse
import json
import os
import sys

from .artifact import DEFAULT_MODEL_PATH
from .batch import expand_paths, predict_many
from .errors import ModelError
from .predict import Predictor

HELP = "Predict the emotion (and speaker gender) of audio files; folders are searched recursively."
HEADER = f"{'file':<50} {'emotion':<10} {'conf':>5}  {'gender':<13} {'dur_s':>5}"


class CliError(Exception):
    """A problem with the whole run (bad arguments, no model, failed files): exit status 1."""


def add_arguments(parser):
    """The predict command's arguments (shared with the Django management command)."""
    parser.add_argument("paths", nargs="+", help="audio files and/or folders")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
    parser.add_argument("--model", default=None, help="model artifact (default: bundled)")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="feature-extraction processes (default -1: all cores; the "
                             "model is loaded once and results keep the input order)")


def run(paths, as_json=False, model=None, jobs=-1, write=print):
    """Predict every file under paths, writing one line per file; raises CliError when the run
    cannot start or any file failed (after all the others were written)."""
    if jobs == 0:
        raise CliError("--jobs must be a positive number of processes or -1 (all cores).")
    try:
        predictor = Predictor.from_path(model or default_model_path())
    except ModelError as exc:
        raise CliError(str(exc)) from None
    files = expand_paths(paths)
    if not files:
        raise CliError("No audio files found in the given folders.")
    failed = 0
    if not as_json:
        write(HEADER)
    for result in predict_many(predictor, files, jobs=jobs):
        failed += "error" in result
        write(json.dumps(result) if as_json else table_row(result))
    if failed:
        raise CliError(f"{failed} of {len(files)} file(s) could not be analysed.")


def default_model_path():
    """SER_MODEL_PATH from the environment (as the Django settings read it), else the bundle."""
    return os.environ.get("SER_MODEL_PATH") or DEFAULT_MODEL_PATH


def table_row(r):
    """One readable line of the table output."""
    name = r["file"] if len(r["file"]) <= 50 else "…" + r["file"][-49:]
    if "error" in r:
        return f"{name:<50} ERROR: {r['error']}"
    gender = f"{r['gender']} {r['gender_confidence']:.0%}"
    return (f"{name:<50} {r['emotion']:<10} {r['confidence']:>5.0%}  {gender:<13} "
            f"{r['duration_s']:>5.1f}")


def main(argv=None, prog="python -m ml predict"):
    """Entry point; returns the exit status (0 = every file analysed)."""
    parser = argparse.ArgumentParser(prog=prog, description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args.paths, args.json, args.model, args.jobs, write=print)
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0
