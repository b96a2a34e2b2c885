"""The speaker-adapted emotion model: trained on features normalised by each speaker's own
(noisy) statistics, as a real user's few enrolment clips provide them.

For every training actor, `draws` reference sets of 1-32 of their clips are sampled; the
actor's OTHER clips (with AdaptRecipe.augmented, also their augmentation copies) are normalised
by the statistics of that reference set (ml.speaker.reference: the mean shrunk toward the
population's; the spread too from min_scale_clips clips on, which the default recipe never
reaches: adapting the mean only measured best) and become training rows. The model is then the
project's usual scaler + MLP ensemble; its probabilities are pooled with the generic model's
(ml.speaker.adapted_proba, weight AdaptRecipe.blend).
"""
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import inference, speaker
from .fitcache import cached_fit

REFERENCE_SIZES = (1, 2, 4, 8, 16, 32)
QUIET = ("neutral", "calm")   # what a user reading sentences "in their everyday voice" sounds like


@dataclass(frozen=True)
class AdaptRecipe:
    """How the adapted model is trained and used; chosen by actor-grouped CV (MODEL_CARD.md).

    draws: reference sets sampled per training actor; sizes: their sizes (a size above the
    actor's clip count = all clips); prior_clips: pseudo-clips of population statistics the
    speaker's are shrunk toward; min_scale_clips: fewer clips than this adapt the mean only;
    keep_absolute: also give the model the population-normalised features; augmented: also
    train on the training augmentation copies (more draws of the clean clips measured better,
    at half the fitting time); quiet_draws: further reference sets per actor drawn from their
    neutral/calm clips only (what enrolment asks for: sentences read in an everyday voice);
    targets: at most this many of the actor's other clips normalised per reference set (0 =
    all; bounds the fitting time whatever the draws); blend: weight of the adapted model's
    log-probabilities against the generic model's.
    """
    draws: int = 6
    sizes: tuple = REFERENCE_SIZES
    prior_clips: float = 2.0
    min_scale_clips: int = 1000
    keep_absolute: bool = False
    augmented: bool = False
    quiet_draws: int = 4
    targets: int = 24
    blend: float = 0.6

    def to_dict(self):
        """Plain-dict form stored in model metadata."""
        return asdict(self)

    def replace(self, **changes):
        """A copy with some fields changed (lists become tuples)."""
        changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
        return AdaptRecipe(**{**asdict(self), **changes})


DEFAULT_ADAPT = AdaptRecipe()


class SpeakerNormalizer(TransformerMixin, BaseEstimator):
    """Learns population statistics (mean of speaker means, typical within-speaker spread)
    from training rows grouped by speaker; transform(X, stats) normalises rows by a speaker's
    SpeakerStats shrunk toward them (stats None: the population's)."""

    def __init__(self, prior_clips=2.0, min_scale_clips=4, keep_absolute=False):
        self.prior_clips = prior_clips
        self.min_scale_clips = min_scale_clips
        self.keep_absolute = keep_absolute

    def fit(self, X, y=None, speakers=None):
        """speakers: the speaker of every row (required)."""
        X = np.asarray(X, np.float64)
        speakers = np.asarray(speakers)
        means, variances = [], []
        for s in np.unique(speakers):
            rows = X[speakers == s]
            means.append(rows.mean(axis=0))
            variances.append(rows.var(axis=0))
        self.mean_ = np.mean(means, axis=0)
        self.within_std_ = np.sqrt(np.maximum(np.mean(variances, axis=0), 1e-12))
        return self

    @property
    def population_(self):
        """The numpy-only form ml.speaker.reference uses."""
        return {"mean": self.mean_.astype(np.float64), "within_std": self.within_std_,
                "prior_clips": float(self.prior_clips),
                "min_scale_clips": int(self.min_scale_clips),
                "keep_absolute": bool(self.keep_absolute)}

    def transform(self, X, stats=None):
        """X relative to the speaker described by stats (a ml.speaker.SpeakerStats)."""
        return speaker.normalise(X, stats, self.population_)


class AdaptedModel:
    """A fitted SpeakerNormalizer + emotion pipeline, and the weight its probabilities get
    against the generic model's when both are pooled (blend)."""

    def __init__(self, normalizer, pipeline, blend=1.0):
        self.normalizer = normalizer
        self.pipeline = pipeline
        self.blend = blend

    def inference_form(self):
        """Numpy-only form: {"population": ..., "model": ml.inference form}."""
        return {"population": self.normalizer.population_,
                "model": inference.from_pipeline(self.pipeline), "blend": float(self.blend)}


def referenced_proba(form, X, speakers, index, generic, seed=0, sizes=REFERENCE_SIZES):
    """Adapted probabilities (uncalibrated, blended with the generic `generic`, row-aligned
    with index) of every row in index given a random reference set of OTHER clips of its
    speaker, of a size drawn from sizes: the out-of-fold probabilities calibration is fitted
    on."""
    rng = np.random.default_rng(seed)
    index = np.asarray(index)
    out = np.array(generic, dtype=np.float64, copy=True)
    for i, row in enumerate(index):
        others = index[(speakers[index] == speakers[row]) & (index != row)]
        if not len(others):
            continue
        ref = rng.choice(others, size=min(int(rng.choice(sizes)), len(others)), replace=False)
        out[i] = speaker.adapted_proba(form, X[row:row + 1], speaker.SpeakerStats.of(X[ref]),
                                       generic[i:i + 1])[0]
    return out


def reference_draws(speakers, index, draws, seed=0, sizes=REFERENCE_SIZES, quiet=None,
                    quiet_draws=0, targets=0):
    """[(reference rows, target rows)] for the rows in index: per speaker, `draws` random
    reference sets (size drawn from sizes) and the other rows (a size of at least all the
    speaker's clips: all of them, as reference and as targets); then `quiet_draws` reference
    sets drawn from the speaker's rows where quiet (a boolean mask over all rows) is true.
    targets: at most this many target rows per draw, chosen at random (0 = all)."""
    rng = np.random.default_rng(seed)
    out = []
    index = np.asarray(index)

    def add(ref, rest):
        if targets and len(rest) > targets:
            rest = np.sort(rng.choice(rest, size=targets, replace=False))
        out.append((ref, rest))

    for s in np.unique(speakers[index]):
        rows = index[speakers[index] == s]
        if len(rows) < 2:
            continue
        for _ in range(draws):
            k = int(rng.choice(sizes))
            if k >= len(rows):  # every clip of the speaker, the normalised ones included
                add(rows, rows)
                continue
            ref = rng.choice(rows, size=k, replace=False)
            add(ref, np.setdiff1d(rows, ref))
        calm = rows[quiet[rows]] if quiet_draws else rows[:0]
        for _ in range(quiet_draws if len(calm) and len(calm) < len(rows) else 0):
            ref = rng.choice(calm, size=min(int(rng.choice(sizes)), len(calm)), replace=False)
            add(ref, np.setdiff1d(rows, ref))
    return out


def adapted_rows(X, labels, speakers, index, augmented, normalizer, recipe, seed=0):
    """Training rows for the adapted model: every draw's target rows (and their augmentation
    copies) normalised by the statistics of its reference rows (of the same block)."""
    blocks, ys = [], []
    quiet = np.isin(labels, QUIET)
    for ref, target in reference_draws(speakers, index, recipe.draws, seed, recipe.sizes, quiet,
                                       recipe.quiet_draws, recipe.targets):
        for block in (X, *augmented):
            ref_rows, rows = block[ref], block[target]
            ref_rows = ref_rows[np.isfinite(ref_rows).all(axis=1)]
            ok = np.isfinite(rows).all(axis=1)
            if not len(ref_rows) or not ok.any():
                continue
            blocks.append(normalizer.transform(rows[ok], speaker.SpeakerStats.of(ref_rows)))
            ys.append(labels[target][ok])
    return np.vstack(blocks), np.concatenate(ys)


def fit_adapted(X, labels, speakers, index, augmented, build, spec, recipe=DEFAULT_ADAPT,
                seed=0, cache_dir=None):
    """Fit an AdaptedModel on the rows in index. build() makes the unfitted emotion pipeline;
    spec describes it for the fit cache; recipe: an AdaptRecipe."""
    normalizer = SpeakerNormalizer(recipe.prior_clips, recipe.min_scale_clips,
                                   recipe.keep_absolute).fit(X[index], speakers=speakers[index])
    Xt, yt = adapted_rows(X, labels, speakers, index, augmented if recipe.augmented else (),
                          normalizer, recipe, seed)
    spec = dict(spec, adapted={k: v for k, v in recipe.to_dict().items() if k != "blend"})
    return AdaptedModel(normalizer, cached_fit(build, Xt, yt, spec, cache_dir), recipe.blend)
