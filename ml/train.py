"""Training: the model recipe, speaker-grouped folds and the train-and-save entry point."""
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from . import adapt, augment, calibration, dataset, plots
from .adapt import DEFAULT_ADAPT
from .artifact import Artifact, save
from .audio import SAMPLE_RATE
from .ensemble import MLPEnsemble
from .errors import DatasetError
from .extract import DEFAULT_CACHE_DIR, extract_files
from .features import get_config
from .fitcache import cached_fit


@dataclass(frozen=True)
class Recipe:
    """Everything that defines how the models are trained; chosen by actor-grouped CV.

    augment: augmentation copies added for every TRAINING clip (see ml.augment.parse_augment),
    e.g. "mix*2" = two random channel chains (speed, colour, band/telephone/codec, noise).
    """
    augment: str = "mix*2"
    n_models: int = 3
    hidden: tuple = (512,)
    alpha: float = 1.0
    batch_size: int = 200
    max_iter: int = 200
    gender_hidden: tuple = (64,)
    gender_alpha: float = 0.1

    def to_dict(self):
        """Plain-dict form stored in model metadata."""
        return asdict(self)

    def replace(self, **changes):
        """A copy with some fields changed."""
        return replace(self, **changes)


DEFAULT_RECIPE = Recipe()


def build_emotion_model(seed=0, recipe=DEFAULT_RECIPE):
    """A fresh, unfitted emotion Pipeline (scaler + averaging ensemble of MLPs)."""
    return Pipeline([
        ("scaler", StandardScaler()),
        ("mlp", MLPEnsemble(n_models=recipe.n_models, hidden_layer_sizes=tuple(recipe.hidden),
                            alpha=recipe.alpha, batch_size=recipe.batch_size,
                            max_iter=recipe.max_iter,
                            random_state=seed)),
    ])


def build_gender_model(seed=0, recipe=DEFAULT_RECIPE):
    """A fresh, unfitted gender Pipeline (scaler + small MLP)."""
    return Pipeline([
        ("scaler", StandardScaler()),
        ("mlp", MLPClassifier(hidden_layer_sizes=tuple(recipe.gender_hidden),
                              alpha=recipe.gender_alpha, max_iter=300, random_state=seed)),
    ])


def load_augmentations(data, recipe=DEFAULT_RECIPE, feature_set="default", jobs=1,
                       cache_dir=DEFAULT_CACHE_DIR, progress=True):
    """Feature blocks of the recipe's augmentation copies, row-aligned with data.X.

    Computed for every clip once (cached); training code picks the rows of its training clips.
    """
    copies = augment.parse_augment(recipe.augment)
    if not copies:
        return []
    paths = [c.path for c in data.clips]
    digests = augment.content_digests(paths)
    return [augment.transformed_features(paths, name, get_config(feature_set), copy, jobs,
                                         cache_dir, progress, digests)
            for name, copy in copies]


def training_rows(X, labels, index, augmented=()):
    """Rows of X[index] plus the augmentation copies of THOSE clips only (failed copies dropped)."""
    blocks, ys = [X[index]], [labels[index]]
    for block in augmented:
        rows = block[index]
        ok = np.isfinite(rows).all(axis=1)
        blocks.append(rows[ok])
        ys.append(labels[index][ok])
    return np.vstack(blocks), np.concatenate(ys)


def fit_emotion(X, labels, index, augmented=(), seed=0, recipe=DEFAULT_RECIPE, cache_dir=None):
    """Fit the emotion model on the clips in index (plus their augmentation copies); with a
    cache_dir an identical earlier fit is loaded instead (ml.fitcache)."""
    Xt, yt = training_rows(X, labels, index, augmented)
    return slim(cached_fit(lambda: build_emotion_model(seed, recipe), Xt, yt,
                           {"model": "emotion", "seed": seed, "recipe": recipe.to_dict()},
                           cache_dir))


def fit_adapted(X, labels, actors, index, augmented=(), seed=0, recipe=DEFAULT_RECIPE,
                adapt_recipe=DEFAULT_ADAPT, cache_dir=None):
    """Fit the speaker-adapted emotion model (ml.adapt) on the clips in index, the same
    network recipe as the generic model's trained on speaker-normalised rows."""
    model = adapt.fit_adapted(X, labels, actors, index, augmented,
                              lambda: build_emotion_model(seed, recipe),
                              {"model": "emotion", "seed": seed, "recipe": recipe.to_dict()},
                              adapt_recipe, seed, cache_dir)
    slim(model.pipeline)
    return model


def fit_gender(X, genders, index, augmented=(), seed=0, recipe=DEFAULT_RECIPE, cache_dir=None):
    """Fit the gender model on the clips in index (plus their augmentation copies)."""
    Xt, yt = training_rows(X, genders, index, augmented)
    return slim(cached_fit(lambda: build_gender_model(seed, recipe), Xt, yt,
                           {"model": "gender", "seed": seed, "recipe": recipe.to_dict()},
                           cache_dir))


def slim(pipeline):
    """Drop what only further training would use from a fitted pipeline's MLPs (Adam's moment
    estimates, copies of the best weights): the artifact gets 4x smaller, predictions are equal."""
    model = pipeline[-1]
    for mlp in getattr(model, "estimators_", [model]):
        for name in ("_optimizer", "_best_coefs", "_best_intercepts"):
            mlp.__dict__.pop(name, None)
    return pipeline


def actor_folds(actors, k=5):
    """Split actors into k contiguous groups (01-04, 05-08, ... for 20 actors) -> (train, test)
    index pairs; no actor is ever on both sides of a fold."""
    actors = np.asarray(actors)
    unique = np.unique(actors)
    k = min(k, len(unique))
    if k < 2:
        raise DatasetError("Speaker-independent evaluation needs clips from at least 2 actors.")
    for held_out in np.array_split(unique, k):
        test = np.isin(actors, held_out)
        yield np.flatnonzero(~test), np.flatnonzero(test)


@dataclass
class LabelledFeatures:
    """Feature matrix with the labels and actor of every row."""
    X: np.ndarray
    emotions: np.ndarray
    genders: np.ndarray
    actors: np.ndarray
    clips: list
    errors: dict


def load_features(data_dir, emotions=dataset.EMOTIONS, feature_set="default", jobs=1,
                  cache_dir=DEFAULT_CACHE_DIR, progress=True):
    """Scan a RAVDESS folder and extract (cached) features for every readable clip."""
    clips = dataset.scan(data_dir, emotions)
    X, ok, errors = extract_files([c.path for c in clips], get_config(feature_set), jobs=jobs,
                                  cache_dir=cache_dir, progress=progress)
    if not ok:
        raise DatasetError(f"None of the {len(clips)} clips under {data_dir} could be read.")
    kept = [clips[i] for i in ok]
    return LabelledFeatures(X, np.array([c.emotion for c in kept]),
                            np.array([c.gender for c in kept]),
                            np.array([c.actor for c in kept]), kept, errors)


def _fit(kind, data, index, augmented, seed, recipe, cache_dir, adapt_recipe=DEFAULT_ADAPT):
    """One fit on the clips in index: kind "emotion", "gender" or "adapted" (FIT_KINDS)."""
    if kind == "emotion":
        return fit_emotion(data.X, data.emotions, index, augmented, seed, recipe, cache_dir)
    if kind == "gender":
        return fit_gender(data.X, data.genders, index, augmented, seed, recipe, cache_dir)
    return fit_adapted(data.X, data.emotions, data.actors, index, augmented, seed, recipe,
                       adapt_recipe, cache_dir)


FIT_KINDS = ("adapted", "emotion", "gender")   # longest first, so parallel workers end together


def _scored(data, test, emotion, gender, adapted=None, seed=0):
    """(emotion probabilities, gender probabilities) of the test rows (columns in the order of
    the models' classes_); with an adapted model also its probabilities of every test row
    given random references of its speaker."""
    e_proba = emotion.predict_proba(data.X[test])
    result = (e_proba, gender.predict_proba(data.X[test]))
    if adapted is None:
        return result
    return result + (adapt.referenced_proba(adapted.inference_form(), data.X, data.actors,
                                            test, e_proba, seed),)


def _fold(data, train, test, augmented, seed, recipe, cache_dir):
    """Fit the generic models on train and score them on test (_scored)."""
    return _scored(data, test, *(_fit(kind, data, train, augmented, seed, recipe, cache_dir)
                                 for kind in ("emotion", "gender")))


def scored_splits(actors, folds=5, scored=None):
    """The first `scored` (None = all) of the actor-grouped folds, as (train, test) pairs."""
    return list(actor_folds(actors, folds))[:scored]


def summarise(data, splits, results, folds):
    """Accuracy, macro-F1, gender accuracy and confusion matrix of out-of-fold predictions
    (results: (emotion probabilities, gender probabilities) of each split's test rows)."""
    labels = sorted(set(data.emotions), key=dataset.EMOTIONS.index)
    emotion_classes, gender_classes = sorted(set(data.emotions)), sorted(set(data.genders))
    tested = np.concatenate([test for _, test in splits])
    predicted = np.empty(len(data.emotions), dtype=object)
    fold_acc, fold_gender = [], []
    for (train, test), (e_proba, g_proba, *_) in zip(splits, results):
        emotions = np.asarray(emotion_classes)[np.argmax(e_proba, axis=1)]
        genders = np.asarray(gender_classes)[np.argmax(g_proba, axis=1)]
        predicted[test] = emotions
        fold_acc.append(accuracy_score(data.emotions[test], emotions))
        fold_gender.append(accuracy_score(data.genders[test], genders))
    protocol = f"{len(splits)}-fold grouped by actor" if len(splits) == folds else \
        f"{len(splits)} of {folds} folds grouped by actor"
    truth, guess = data.emotions[tested], predicted[tested]
    return {
        "protocol": protocol,
        "held_out_actors": sorted(int(a) for a in set(data.actors[tested])),
        "accuracy_mean": float(np.mean(fold_acc)), "accuracy_sd": float(np.std(fold_acc)),
        "fold_accuracy": [float(a) for a in fold_acc],
        "macro_f1": float(f1_score(truth, guess, average="macro")),
        "gender_accuracy_mean": float(np.mean(fold_gender)),
        "labels": labels,
        "confusion_matrix": confusion_matrix(truth, guess, labels=labels).tolist(),
    }


def grouped_score(data, folds=5, seed=0, recipe=DEFAULT_RECIPE, augmented=(), jobs=1,
                  cache_dir=None, scored=None):
    """Out-of-fold emotion and gender predictions with actor-grouped folds; returns a summary.

    augmented: feature blocks row-aligned with data.X (load_augmentations); each fold trains on
    the copies of its training clips only. scored: run only the first N folds (None = all).
    Folds run in `jobs` processes (same results).
    """
    splits = scored_splits(data.actors, folds, scored)
    results = Parallel(n_jobs=jobs)(delayed(_fold)(data, train, test, augmented, seed, recipe,
                                                   cache_dir) for train, test in splits)
    return summarise(data, splits, results, folds)


def fit_calibration(data, splits, results):
    """Temperature scalers for both heads fitted on the out-of-fold probabilities of the scored
    actor-grouped folds, and the JSON-ready calibration summary stored in the metadata: ECE
    before/after (the "after" one cross-fitted: each fold scaled by a temperature fitted on
    the other folds) and the "uncertain" threshold chosen on those calibrated probabilities."""
    tested = np.concatenate([test for _, test in splits])
    fold_of = np.concatenate([np.full(len(test), i) for i, (_, test) in enumerate(splits)])
    scalers, info = {}, {"method": "temperature", "fitted_on": (
        f"out-of-fold probabilities of {len(tested)} clips, {len(splits)} actor-grouped folds")}
    heads = (("emotion", data.emotions), ("gender", data.genders), ("adapted", data.emotions))
    for k, (name, labels) in enumerate(heads[:len(results[0])]):
        classes = sorted(set(labels))
        proba = np.vstack([result[k] for result in results])
        truth = np.array([classes.index(v) for v in labels[tested]])
        scalers[name] = calibration.TemperatureScaling(classes).fit(proba, labels[tested])
        oof = calibration.cross_fitted(proba, truth, fold_of)
        threshold = calibration.uncertain_threshold(oof, truth) if name == "emotion" else None
        info[name] = {"temperature": scalers[name].temperature_,
                      **calibration.summary(proba, oof, truth, threshold or 0.0)}
        if threshold is not None:
            info["uncertain_below"] = threshold
    return scalers, info


def _ranges(numbers):
    """"1-4, 9" style text for sorted integers."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        start = n if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(f"{start}-{n}" if n > start else str(n))
            start = None
    return ", ".join(parts)


def train(data_dir, out_path, emotions=dataset.EMOTIONS, feature_set="default", seed=0,
          jobs=1, folds=5, score_folds=1, cache_dir=DEFAULT_CACHE_DIR, progress=True, log=print,
          recipe=DEFAULT_RECIPE, adapt_recipe=DEFAULT_ADAPT):
    """Extract features, score speaker-independently, fit on all clips and save the artifact.

    The score trains on some actors and tests on the others: the first score_folds of `folds`
    actor-grouped folds (None = all of them, the full cross-validation `evaluate` runs). Those
    fits and the final fit on every clip run side by side in `jobs` processes.
    The out-of-fold probabilities of those folds fit the probability calibration
    (fit_calibration), stored in the artifact and applied by every prediction. The artifact
    also holds the speaker-adapted model (ml.adapt, adapt_recipe), calibrated the same way on
    its out-of-fold probabilities given random reference clips of each held-out speaker.
    Writes the model to out_path and loss-curve / confusion-matrix PNGs beside it.
    Returns the saved Artifact.
    """
    started = time.perf_counter()
    data = load_features(data_dir, emotions, feature_set, jobs, cache_dir, progress)
    for path, err in data.errors.items():
        log(f"skipped {path}: {err}")
    if len(set(data.emotions)) < 2:
        raise DatasetError("Training needs clips of at least 2 emotions.")
    augmented = load_augmentations(data, recipe, feature_set, jobs, cache_dir, progress)
    splits = scored_splits(data.actors, folds, score_folds) \
        if folds and len(set(data.actors)) >= 2 else []
    if progress:
        log(f"Fitting {len(splits)} speaker-independent check(s) and the final model ...")
    # every fit of the final models and of the scored folds, side by side, longest first
    sets = [np.arange(len(data.emotions))] + [train_rows for train_rows, _ in splits]
    tasks = [(kind, i) for kind in FIT_KINDS for i in range(len(sets))]
    fitted = dict(zip(tasks, Parallel(n_jobs=jobs)(
        delayed(_fit)(kind, data, sets[i], augmented, seed, recipe, cache_dir, adapt_recipe)
        for kind, i in tasks)))
    adapted_model, emotion_model, gender_model = (fitted[kind, 0] for kind in FIT_KINDS)
    results = [_scored(data, test, fitted["emotion", i], fitted["gender", i],
                       fitted["adapted", i], seed) for i, (_, test) in enumerate(splits, 1)]
    score = summarise(data, splits, results, folds) if splits else None
    if score:
        spread = f" ± {score['accuracy_sd']:.1%}" if len(splits) > 1 else ""
        log(f"Speaker-independent accuracy ({score['protocol']}, held-out actors "
            f"{_ranges(score['held_out_actors'])}): {score['accuracy_mean']:.1%}{spread}, "
            f"macro-F1 {score['macro_f1']:.3f}, gender {score['gender_accuracy_mean']:.1%}")
    else:
        log("Only one actor: no speaker-independent score could be computed.")
    scalers, calibration_info = fit_calibration(data, splits, results) if splits else ({}, None)
    if calibration_info:
        emo = calibration_info["emotion"]
        log(f"Calibration: temperature {emo['temperature']:.2f}; expected calibration error "
            f"{emo['ece_before']:.3f} -> {emo['ece_after']:.3f} (out-of-fold); answers under "
            f"{calibration_info['uncertain_below']:.0%} are shown as uncertain")
        ada = calibration_info["adapted"]
        log(f"Adapted model (random references of each held-out speaker): accuracy "
            f"{ada['accuracy']:.1%}, temperature {ada['temperature']:.2f}, ECE "
            f"{ada['ece_before']:.3f} -> {ada['ece_after']:.3f}")
    metadata = {
        "emotions": [str(c) for c in emotion_model.classes_],
        "feature_set": get_config(feature_set).to_dict(),
        "n_features": int(data.X.shape[1]),
        "sample_rate": SAMPLE_RATE,
        "seed": seed,
        "recipe": recipe.to_dict(),
        "adaptation": {"recipe": adapt_recipe.to_dict()},
        "training_data": {
            "source": os.path.abspath(data_dir), "clips": len(data.clips),
            "skipped": len(data.errors), "actors": sorted(int(a) for a in set(data.actors)),
            "per_emotion": dict(Counter(data.emotions.tolist())),
            "per_gender": dict(Counter(data.genders.tolist())),
        },
        "evaluation": score,
        "calibration": calibration_info,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    artifact = Artifact(emotion_model, gender_model, metadata, scalers, adapted_model)
    save(artifact, out_path)
    stem = os.path.splitext(out_path)[0]
    plots.loss_curve({"emotion": emotion_model[-1].loss_curve_,
                      "gender": gender_model[-1].loss_curve_}, stem + "_loss.png")
    if score:
        plots.confusion_matrix(score["confusion_matrix"], score["labels"],
                               stem + "_confusion.png")
    return artifact
