"""`manage.py evaluate --data PATH`: speaker-independent evaluation of the training recipe.

Thin wrapper: all logic lives in ml.evaluate.
"""
import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import DatasetError
from ml import adapt_eval
from ml.adapt import DEFAULT_ADAPT
from ml import evaluate as ev
from ml.dataset import EMOTIONS
from ml.extract import DEFAULT_CACHE_DIR
from ml.features import FEATURE_SETS
from ml.train import DEFAULT_RECIPE


def emotion_list(value):
    """Parse --emotions: names from the 8 RAVDESS emotions, comma- or space-separated."""
    names = [v.strip().lower() for v in value.replace(",", " ").split() if v.strip()]
    unknown = [n for n in names if n not in EMOTIONS]
    if unknown or len(names) < 2:
        raise CommandError(f"--emotions takes at least two of {', '.join(EMOTIONS)}"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(n for n in EMOTIONS if n in names)


def parse_grid(value):
    """--grid: the default comparison, or a JSON list of recipe changes."""
    if value in (None, "", "default"):
        return ev.DEFAULT_GRID
    try:
        grid = json.loads(value)
        assert isinstance(grid, list) and all(isinstance(g, dict) for g in grid)
    except (ValueError, AssertionError):
        raise CommandError('--grid takes "default" or a JSON list such as '
                           '\'[{"hidden": [256], "alpha": 1.0}]\'') from None
    known = set(DEFAULT_RECIPE.to_dict())
    for g in grid:
        bad = set(g) - known
        if bad:
            raise CommandError(f"Unknown recipe field(s) in --grid: {', '.join(sorted(bad))}; "
                               f"known: {', '.join(sorted(known))}")
        if "hidden" in g:
            g["hidden"] = tuple(g["hidden"])
    return grid


class Command(BaseCommand):
    help = ("Evaluate the recipe speaker-independently (K folds grouped by actor) and print "
            "accuracy, macro-F1, per-emotion recall, confusion matrix, 4-emotion subset and gender.")

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="RAVDESS-layout folder")
        parser.add_argument("--folds", type=int, default=5,
                            help="folds (grouped) or repeated splits (random); default 5")
        parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS),
                            help="emotions to evaluate (default: all 8)")
        parser.add_argument("--feature-set", default="default", choices=sorted(FEATURE_SETS))
        parser.add_argument("--protocol", default="grouped", choices=("grouped", "random"),
                            help="grouped by actor (default) or the tutorials' random 75/25 split")
        parser.add_argument("--compare-baseline", action="store_true",
                            help="also run the tutorial pipeline on the same folds")
        parser.add_argument("--baseline-script", default=None,
                            help="seed_pipeline.py to use as the baseline "
                                 "(default ../shared/anchors/seed_pipeline.py; falls back to the "
                                 "in-project 'tutorial' feature set)")
        parser.add_argument("--channel-test", action="store_true",
                            help="re-score test folds after telephone, MP3, Opus and 20 dB noise")
        parser.add_argument("--baseline-channels", action="store_true",
                            help="with --compare-baseline and --channel-test: channel-test the "
                                 "baseline too (slow)")
        parser.add_argument("--grid", nargs="?", const="default", default=None,
                            help="compare MLP settings by the same CV instead (optionally a JSON "
                                 "list of recipe changes)")
        parser.add_argument("--select", nargs="?", const="default", default=None,
                            help="choose the MLP settings inside every training part by inner "
                                 "grouped CV over the --grid candidates (nested; slow)")
        parser.add_argument("--augment", default=None,
                            help=f"override the recipe's augmentation (default "
                                 f"{DEFAULT_RECIPE.augment!r}; 'none' to disable)")
        parser.add_argument("--adapt", action="store_true",
                            help="instead: speaker adaptation, accuracy and ECE against the "
                                 "number of reference clips of the speaker (enrolment curve)")
        parser.add_argument("--adapt-recipe", default=None, metavar="JSON",
                            help="with --adapt: changes to the adapted model's recipe "
                                 """(ml.adapt.AdaptRecipe), e.g. '{"quiet_draws": 0}'""")
        parser.add_argument("--repeats", type=int, default=5,
                            help="with --adapt: random reference sets per actor and k")
        parser.add_argument("--no-subset", action="store_true",
                            help="skip the 4-emotion tutorial subset")
        parser.add_argument("--long-clips", type=int, default=16,
                            help="synthetic long recordings of one emotion, and as many "
                                 "mixtures, per grouped fold from its test actors (0 = skip)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--jobs", type=int, default=2, help="parallel extraction workers")
        parser.add_argument("--out", default=None,
                            help="folder for the confusion-matrix PNG and the JSON report "
                                 "(default .cache/evaluation in the project)")
        parser.add_argument("--json", action="store_true", help="print the JSON report instead")
        parser.add_argument("--no-cache", action="store_true", help="do not use the feature cache")

    def handle(self, *args, **opts):
        recipe = DEFAULT_RECIPE
        if opts["augment"] is not None:
            recipe = recipe.replace(augment=opts["augment"])
        if opts["folds"] < 2:
            raise CommandError("--folds must be at least 2.")
        out = opts["out"] or os.path.join(settings.BASE_DIR, ".cache", "evaluation")
        quiet = opts["json"]
        if opts["adapt"]:
            return self._adapt(opts, recipe, out, quiet)
        try:
            report = ev.run(
                opts["data"], folds=opts["folds"], emotions=emotion_list(" ".join(opts["emotions"])),
                feature_set=opts["feature_set"], protocol=opts["protocol"], recipe=recipe,
                compare_baseline=opts["compare_baseline"],
                baseline_script=opts["baseline_script"], channel_test=opts["channel_test"],
                tutorial_subset=not opts["no_subset"],
                grid=parse_grid(opts["grid"]) if opts["grid"] is not None else None,
                select=parse_grid(opts["select"]) if opts["select"] is not None else None,
                baseline_channels=opts["baseline_channels"],
                seed=opts["seed"], jobs=opts["jobs"],
                cache_dir=None if opts["no_cache"] else DEFAULT_CACHE_DIR,
                out_dir=out, progress=not quiet, long_clips=opts["long_clips"],
                log=(lambda *_: None) if quiet else self.stdout.write)
        except (DatasetError, ValueError) as exc:
            raise CommandError(str(exc))
        if quiet:
            self.stdout.write(json.dumps(report, indent=1))
        else:
            self.stdout.write(ev.format_report(report))

    def _adapt(self, opts, recipe, out, quiet):
        if opts["repeats"] < 1:
            raise CommandError("--repeats must be at least 1.")
        adapt_recipe = adapt_recipe_from(opts["adapt_recipe"])
        try:
            report = adapt_eval.run(
                opts["data"], recipe=recipe, adapt_recipe=adapt_recipe, folds=opts["folds"],
                seed=opts["seed"],
                repeats=opts["repeats"], jobs=opts["jobs"],
                cache_dir=None if opts["no_cache"] else DEFAULT_CACHE_DIR, out_dir=out,
                progress=not quiet, log=(lambda *_: None) if quiet else self.stdout.write)
        except (DatasetError, ValueError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(json.dumps(report, indent=1) if quiet
                          else adapt_eval.format_report(report))


def adapt_recipe_from(text):
    """DEFAULT_ADAPT with the changes of a JSON object (None: unchanged); CommandError if bad."""
    if text is None:
        return DEFAULT_ADAPT
    try:
        changes = json.loads(text)
        if not isinstance(changes, dict):
            raise ValueError
        return DEFAULT_ADAPT.replace(**changes)
    except (ValueError, TypeError):
        raise CommandError(f"--adapt-recipe must be a JSON object of AdaptRecipe fields "
                           f"({', '.join(DEFAULT_ADAPT.to_dict())}).") from None
