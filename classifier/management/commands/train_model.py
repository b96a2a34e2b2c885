"""`manage.py train_model --data PATH`: train and save the emotion + gender model."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import DatasetError
from ml.dataset import EMOTIONS
from ml.extract import DEFAULT_CACHE_DIR
from ml.features import FEATURE_SETS
from ml.train import train


def emotion_list(value):
    """Parse --emotions: comma-separated names from the 8 RAVDESS emotions."""
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in EMOTIONS]
    if unknown or len(names) < 2:
        raise CommandError(f"--emotions takes at least two of {', '.join(EMOTIONS)}"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(names)


class Command(BaseCommand):
    help = "Train the emotion and gender model on a RAVDESS-layout folder and save it."

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="RAVDESS-layout folder")
        parser.add_argument("--emotions", default=",".join(EMOTIONS),
                            help="comma-separated emotions to train on (default: all 8)")
        parser.add_argument("--out", default=None, help="artifact path (default: bundled model)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--feature-set", default="default", choices=sorted(FEATURE_SETS))
        parser.add_argument("--folds", type=int, default=5,
                            help="actor-grouped folds for the speaker-independent score")
        parser.add_argument("--score-folds", type=int, default=1,
                            help="how many of those folds to fit and score (default 1: a quick "
                                 "held-out-actors check; use --folds for full cross-validation, "
                                 "as `evaluate` does)")
        parser.add_argument("--jobs", type=int, default=-1, help="parallel extraction workers")
        parser.add_argument("--no-cache", action="store_true", help="do not use the feature cache")

    def handle(self, *args, **opts):
        out = opts["out"] or settings.SER_MODEL_PATH
        try:
            artifact = train(opts["data"], out, emotions=emotion_list(opts["emotions"]),
                             feature_set=opts["feature_set"], seed=opts["seed"],
                             jobs=opts["jobs"], folds=opts["folds"],
                             score_folds=opts["score_folds"],
                             cache_dir=None if opts["no_cache"] else DEFAULT_CACHE_DIR,
                             log=self.stdout.write)
        except DatasetError as exc:
            raise CommandError(str(exc))
        meta = artifact.metadata
        self.stdout.write(self.style.SUCCESS(
            f"Saved {out} ({meta['training_data']['clips']} clips, emotions: "
            f"{', '.join(meta['emotions'])}, hash {meta['content_hash'][:12]})"))
