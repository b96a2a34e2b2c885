"""The prediction and enrolment command lines, without Django:

    python -m ml predict PATH... [--json] [--model PATH] [--jobs N]
                                 [--profile PROFILE | --same-speaker]
    python -m ml enrol --out PROFILE [--name NAME] [--add] PATH...

`manage.py predict` and `manage.py enrol` are these same commands: manage.py hands them straight
here, so answering from the shell does not wait for Django's app registry (about a third of a
second); the Django management commands (call_command("predict", ...)) run the same functions
with the project's settings.SER_MODEL_PATH.
"""
import argparse
import json
import os
import sys

from .artifact import DEFAULT_MODEL_PATH
from .batch import expand_paths, extract_many, predict_many, stats_of
from .errors import ModelError
from .predict import Predictor
from .speaker import Adaptation, ProfileError, load_profile, save_profile

HELP = "Predict the emotion (and speaker gender) of audio files; folders are searched recursively."
ENROL_HELP = ("Make a voice profile (feature statistics only, no audio) from recordings of one "
              "speaker, for `predict --profile`.")
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
    adapt = parser.add_mutually_exclusive_group()
    adapt.add_argument("--profile", default=None,
                       help="voice profile (from `enrol`): adapt to that speaker")
    adapt.add_argument("--same-speaker", action="store_true",
                       help="the files are all one speaker: adapt to all of them")


def add_enrol_arguments(parser):
    """The enrol command's arguments (shared with the Django management command)."""
    parser.add_argument("paths", nargs="+", help="audio files and/or folders of one speaker")
    parser.add_argument("--out", required=True, help="profile file to write (JSON)")
    parser.add_argument("--name", default=None, help="profile name (default: the file's stem)")
    parser.add_argument("--add", action="store_true",
                        help="add the files to the existing profile at --out")
    parser.add_argument("--model", default=None, help="model artifact (default: bundled)")
    parser.add_argument("--jobs", type=int, default=-1, help="feature-extraction processes")


def _predictor(model, jobs):
    if jobs == 0:
        raise CliError("--jobs must be a positive number of processes or -1 (all cores).")
    try:
        return Predictor.from_path(model or default_model_path())
    except ModelError as exc:
        raise CliError(str(exc)) from None


def _files(paths):
    files = expand_paths(paths)
    if not files:
        raise CliError("No audio files found in the given folders.")
    return files


def _profile(predictor, path):
    try:
        stats, name = load_profile(path)
        predictor.check_stats(stats)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    if not predictor.can_adapt:
        raise CliError("This model has no speaker-adapted part; retrain it with "
                       "`python manage.py train_model`.")
    return Adaptation(stats, "profile", name)


def run(paths, as_json=False, model=None, jobs=-1, write=print, profile=None,
        same_speaker=False):
    """Predict every file under paths, writing one line per file; raises CliError when the run
    cannot start or any file failed (after all the others were written). profile: a voice
    profile file to adapt to; same_speaker: adapt to the statistics of all the files."""
    predictor = _predictor(model, jobs)
    adaptation = _profile(predictor, profile) if profile else None
    if same_speaker and not predictor.can_adapt:
        raise CliError("This model has no speaker-adapted part; retrain it with "
                       "`python manage.py train_model`.")
    files = _files(paths)
    failed = 0
    if not as_json:
        write(HEADER)
    for result in predict_many(predictor, files, jobs, adaptation, same_speaker):
        failed += "error" in result
        write(json.dumps(result) if as_json else table_row(result))
    if failed:
        raise CliError(f"{failed} of {len(files)} file(s) could not be analysed.")


def enrol(paths, out, name=None, add=False, model=None, jobs=-1, write=print):
    """Write (or with add, extend) the voice profile `out` from the files under paths; files
    that cannot be read are reported and skipped. Returns the profile's statistics."""
    predictor = _predictor(model, jobs)
    files = _files(paths)
    stats, old_name = predictor.new_stats(), None
    if add and os.path.exists(out):
        stats, old_name = _profile(predictor, out).stats, load_profile(out)[1]
    done = list(extract_many(files, predictor.config, jobs))
    for path, item in done:
        if isinstance(item, str):
            write(f"skipped {path}: {item}")
    new = stats_of(predictor, done).stats
    if not new.count:
        raise CliError("None of the files could be read; no profile was written.")
    stats = stats.merged(new)
    name = name or old_name or os.path.splitext(os.path.basename(out))[0]
    try:
        save_profile(stats, out, name)
    except OSError as exc:
        raise CliError(f"Could not write {out}: {exc.strerror}.") from None
    write(f"Profile {name!r}: {stats.count} clips, {stats.seconds:.1f} s of speech -> {out}")
    return stats


def default_model_path():
    """SER_MODEL_PATH from the environment (as the Django settings read it), else the bundle."""
    return os.environ.get("SER_MODEL_PATH") or DEFAULT_MODEL_PATH


def table_row(r):
    """One readable line of the table output."""
    name = r["file"] if len(r["file"]) <= 50 else "…" + r["file"][-49:]
    if "error" in r:
        return f"{name:<50} ERROR: {r['error']}"
    gender = f"{r['gender']} {r['gender_confidence']:.0%}"
    adapted = f"  adapted to {r['adaptation']['clips']} clips" if r.get("adaptation") else ""
    return (f"{name:<50} {r['emotion']:<10} {r['confidence']:>5.0%}  {gender:<13} "
            f"{r['duration_s']:>5.1f}{adapted}")


def main(argv=None, prog="python -m ml predict"):
    """Entry point of predict; returns the exit status (0 = every file analysed)."""
    parser = argparse.ArgumentParser(prog=prog, description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return _main(lambda: run(args.paths, args.json, args.model, args.jobs, print, args.profile,
                             args.same_speaker))


def enrol_main(argv=None, prog="python -m ml enrol"):
    """Entry point of enrol; returns the exit status (0 = profile written)."""
    parser = argparse.ArgumentParser(prog=prog, description=ENROL_HELP)
    add_enrol_arguments(parser)
    args = parser.parse_args(argv)
    return _main(lambda: enrol(args.paths, args.out, args.name, args.add, args.model,
                               args.jobs))


def _main(command):
    try:
        command()
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0
