"""Honest evaluation: speaker-independent (actor-grouped) cross-validation of the training recipe.

Everything that is fitted -- scaler, augmentation copies, MLPs, hyper-parameter selection -- sees
only the training part of each fold. Also: the tutorials' random 75/25 split (to show how much it
flatters), the tutorial baseline on the same folds, the 4-emotion tutorial subset, gender, a
channel test (telephone, MP3, Opus, noise) and a grid comparison of MLP settings.

Django-free; `manage.py evaluate` is a thin wrapper around `run`.
"""
import importlib.util
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier

from . import augment, channels, dataset, plots, reliability
from .audio import decode
from .errors import DatasetError
from .extract import DEFAULT_CACHE_DIR, FeatureCache, file_hash
from .features import FeatureConfig, get_config
from .train import (DEFAULT_RECIPE, actor_folds, fit_emotion, fit_gender, load_augmentations,
                    load_features)

DEFAULT_SEED_PIPELINE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "anchors",
    "seed_pipeline.py")
TUTORIAL_MLP = dict(alpha=0.01, batch_size=256, epsilon=1e-08, hidden_layer_sizes=(300,),
                    learning_rate="adaptive", max_iter=500)

# The comparison the tutorials did by hand (GridSearchCV on a random split), scored by
# actor-grouped CV instead. Each entry changes fields of the recipe.
DEFAULT_GRID = [
    {"n_models": 1, "hidden": (300,), "alpha": 0.01},
    {"n_models": 1, "hidden": (128,), "alpha": 1.0},
    {"n_models": 1, "hidden": (256,), "alpha": 0.1},
    {"n_models": 1, "hidden": (256,), "alpha": 1.0},
    {"n_models": 1, "hidden": (256,), "alpha": 3.0},
    {"n_models": 1, "hidden": (512,), "alpha": 1.0},
    {"n_models": 1, "hidden": (256, 128), "alpha": 1.0},
]


# ----------------------------------------------------------------------------- splits

def random_splits(labels, repeats=5, test_size=0.25, seed=0):
    """The tutorials' protocol: stratified random 75/25 splits (the same actors on both sides)."""
    sss = StratifiedShuffleSplit(n_splits=repeats, test_size=test_size, random_state=seed)
    return list(sss.split(np.zeros(len(labels)), labels))


def make_splits(actors, labels, protocol="grouped", folds=5, seed=0):
    """(train, test) index pairs for the protocol: "grouped" by actor or "random" 75/25."""
    if protocol == "grouped":
        return list(actor_folds(actors, folds))
    if protocol == "random":
        return random_splits(labels, folds, 0.25, seed)
    raise ValueError(f"Unknown protocol {protocol!r}; use 'grouped' or 'random'.")


# ----------------------------------------------------------------------------- baseline

def _load_seed_module(path):
    spec = importlib.util.spec_from_file_location("seed_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Baseline:
    """The tutorial pipeline: seed_pipeline.extract_features (file's own rate, no trimming) and an
    unscaled MLPClassifier with the tutorial's parameters. Falls back to the in-project
    "tutorial" feature set if the seed script is not available."""

    def __init__(self, script=None):
        script = script or DEFAULT_SEED_PIPELINE
        self.script = os.path.abspath(script) if os.path.exists(script) else None
        if self.script:
            with open(self.script, "rb") as f:
                self.key = "seed-" + file_hash(f.name)[:10]
            self.description = f"tutorial pipeline ({os.path.basename(self.script)})"
            self.mlp_params = dict(getattr(_load_seed_module(self.script), "MLP_PARAMS",
                                           TUTORIAL_MLP))
        else:
            self.key = None
            self.description = "tutorial pipeline (in-project 'tutorial' feature set)"
            self.mlp_params = dict(TUTORIAL_MLP)

    def model(self, seed=0):
        """The unscaled tutorial MLP."""
        return MLPClassifier(**self.mlp_params, random_state=seed)


def _seed_vector(script, path, transform, digest):
    module = _load_seed_module(script)
    if transform is None:
        return module.extract_features(path)
    decoded = decode(path, rate=None)
    y, rate = augment.apply(transform, decoded.samples, decoded.rate, digest)
    fd, tmp = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        import soundfile as sf
        sf.write(tmp, y, rate, subtype="FLOAT")
        return module.extract_features(tmp)
    finally:
        os.unlink(tmp)


def baseline_features(baseline, corpus, transform=None, jobs=1, cache_dir=DEFAULT_CACHE_DIR,
                      progress=True):
    """Baseline feature matrix for the corpus (optionally after a channel transform)."""
    if baseline.script is None:
        if transform is None:
            return load_features(corpus.data_dir, corpus.emotion_set, "tutorial", jobs,
                                 cache_dir, progress).X
        return augment.transformed_features(corpus.paths, transform, "tutorial", 0, jobs,
                                            cache_dir, progress, corpus.digests)
    name = baseline.key + (f"-{augment.transform_key(transform, 0)}" if transform else "")
    cache = FeatureCache(os.path.join(cache_dir, "baseline") if cache_dir else None,
                         FeatureConfig(name))
    vectors = [cache.get(d) for d in corpus.digests]
    todo = [i for i, v in enumerate(vectors) if v is None]
    if todo:
        from tqdm import tqdm
        work = Parallel(n_jobs=jobs, return_as="generator", batch_size=8)(
            delayed(_seed_vector)(baseline.script, corpus.paths[i], transform,
                                  corpus.digests[i]) for i in todo)
        for i, vec in tqdm(zip(todo, work), total=len(todo), disable=not progress,
                           desc=f"Baseline features [{transform or 'clean'}]", unit="clip"):
            vectors[i] = np.asarray(vec, np.float32)
            cache.put(corpus.digests[i], vectors[i])
    return np.vstack(vectors)


# ----------------------------------------------------------------------------- corpus

@dataclass
class Corpus:
    """Features, labels, actors and content hashes of every readable clip of a dataset."""
    data_dir: str
    emotion_set: tuple
    X: np.ndarray
    emotions: np.ndarray
    genders: np.ndarray
    actors: np.ndarray
    paths: list
    digests: list
    clips: list = field(repr=False, default_factory=list)

    def subset(self, index):
        """The rows in index (a new Corpus sharing nothing mutable)."""
        index = np.asarray(index)
        return Corpus(self.data_dir, self.emotion_set, self.X[index], self.emotions[index],
                      self.genders[index], self.actors[index],
                      [self.paths[i] for i in index], [self.digests[i] for i in index],
                      [self.clips[i] for i in index])


def load_corpus(data_dir, emotions=dataset.EMOTIONS, feature_set="default", jobs=1,
                cache_dir=DEFAULT_CACHE_DIR, progress=True):
    """Scan, extract (cached) features and hash every clip of a RAVDESS-layout folder."""
    data = load_features(data_dir, emotions, feature_set, jobs, cache_dir, progress)
    paths = [c.path for c in data.clips]
    return Corpus(data_dir, tuple(emotions), data.X, data.emotions, data.genders, data.actors,
                  paths, augment.content_digests(paths), data.clips)


# ----------------------------------------------------------------------------- scoring

def _summary(values):
    values = np.asarray(values, dtype=float)
    return {"mean": float(np.mean(values)), "sd": float(np.std(values)),
            "folds": [float(v) for v in values]}


def cross_validate(X, labels, splits, fit, channel_blocks=None, label_order=None,
                   restrict_to=None, collect=None):
    """Score a fit(train_index) -> classifier function on the splits.

    channel_blocks: {name: feature block row-aligned with X}; the fitted model of every fold is
    re-scored on the block's test rows. restrict_to: also score the test clips of these labels
    with the model's choice among these labels only (e.g. the 8-emotion model on the 4 tutorial
    emotions). collect: a dict that receives each fold's fitted model ("models") and the
    out-of-fold probabilities of every test row ("proba", columns = the models' classes_).
    Returns a dict of per-fold figures and the pooled confusion matrix.
    """
    label_order = list(label_order or sorted(set(labels)))
    predicted = np.empty(len(labels), dtype=object)
    tested = np.zeros(len(labels), bool)
    acc, f1, recall = [], [], []
    channel_acc = {name: [] for name in (channel_blocks or {})}
    restricted = []
    for train, test in splits:
        model = fit(train)
        pred = model.predict(X[test])
        if collect is not None:
            collect.setdefault("models", []).append(model)
            collect.setdefault("proba", np.zeros((len(labels), len(model.classes_))))[test] = \
                model.predict_proba(X[test])
        if restrict_to:
            rows = test[np.isin(labels[test], restrict_to)]
            cols = [list(model.classes_).index(c) for c in restrict_to]
            choice = np.asarray(restrict_to)[model.predict_proba(X[rows])[:, cols].argmax(axis=1)]
            restricted.append(float(np.mean(choice == labels[rows])))
        predicted[test], tested[test] = pred, True
        truth = labels[test]
        acc.append(accuracy_score(truth, pred))
        present = [c for c in label_order if c in set(truth)]
        f1.append(f1_score(truth, pred, labels=present, average="macro", zero_division=0))
        recall.append(recall_score(truth, pred, labels=label_order, average=None,
                                   zero_division=np.nan))
        for name, block in (channel_blocks or {}).items():
            rows = block[test]
            ok = np.isfinite(rows).all(axis=1)
            # a clip the channel destroyed counts as an error
            hits = np.zeros(len(test), bool)
            if ok.any():
                hits[ok] = model.predict(rows[ok]) == truth[ok]
            channel_acc[name].append(float(hits.mean()))
    recall = np.array(recall, dtype=float)
    result = {
        "accuracy": _summary(acc),
        "macro_f1": _summary(f1),
        "recall": {c: {"mean": float(np.nanmean(recall[:, i])), "sd": float(np.nanstd(recall[:, i]))}
                   for i, c in enumerate(label_order)},
        "labels": label_order,
        "confusion_matrix": confusion_matrix(labels[tested], predicted[tested].astype(str),
                                             labels=label_order).tolist(),
    }
    if restrict_to:
        result["restricted"] = {"labels": list(restrict_to), "accuracy": _summary(restricted)}
    if channel_blocks:
        result["channels"] = {
            name: {"accuracy": _summary(a),
                   "drop_points": float(100 * (np.mean(acc) - np.mean(a))),
                   "fold_drops": [float(100 * (x - y)) for x, y in zip(acc, a)]}
            for name, a in channel_acc.items()}
    return result


def select_recipe(X, labels, actors, train, augmented, candidates, base, seed=0, inner_folds=4):
    """Choose among candidate recipes by actor-grouped CV INSIDE the training part `train`."""
    scores = []
    for cand in candidates:
        recipe = base.replace(**cand)
        accs = []
        for inner_train, inner_test in actor_folds(actors[train], inner_folds):
            model = fit_emotion(X, labels, train[inner_train], augmented, seed, recipe)
            accs.append(accuracy_score(labels[train[inner_test]],
                                       model.predict(X[train[inner_test]])))
        scores.append(np.mean(accs))
    best = int(np.argmax(scores))
    return base.replace(**candidates[best]), scores


# ----------------------------------------------------------------------------- the run

def run(data_dir, folds=5, emotions=dataset.EMOTIONS, feature_set="default", protocol="grouped",
        recipe=DEFAULT_RECIPE, compare_baseline=False, baseline_script=None, channel_test=False,
        tutorial_subset=True, grid=None, select=None, baseline_channels=False, seed=0, jobs=1,
        cache_dir=DEFAULT_CACHE_DIR, out_dir=None, progress=True, log=print, long_clips=16):
    """Evaluate the recipe (and optionally the baseline) and return a JSON-ready report.

    grid: list of recipe changes to compare by the same CV (replaces the normal evaluation).
    select: list of recipe changes to choose from by inner grouped CV inside every training part
    (nested model selection); None uses the recipe as given.
    baseline_channels: also channel-test the baseline (slow: its features are re-extracted for
    every degraded copy).
    long_clips: synthetic long recordings of one emotion and as many mixtures per grouped fold,
    built from its test actors (ml.reliability; 0 = skip).
    """
    with warnings.catch_warnings():
        # tiny folds clip the tutorial's batch of 256; capped MLPs warn about convergence
        warnings.filterwarnings("ignore", message=".*batch_size.*")
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _run(data_dir, folds, emotions, feature_set, protocol, recipe, compare_baseline,
                    baseline_script, channel_test, tutorial_subset, grid, select,
                    baseline_channels, seed, jobs, cache_dir, out_dir, progress, log,
                    long_clips)


def _run(data_dir, folds, emotions, feature_set, protocol, recipe, compare_baseline,
         baseline_script, channel_test, tutorial_subset, grid, select, baseline_channels, seed,
         jobs, cache_dir, out_dir, progress, log, long_clips):
    started = time.perf_counter()
    get_config(feature_set)
    corpus = load_corpus(data_dir, emotions, feature_set, jobs, cache_dir, progress)
    if len(set(corpus.actors)) < 2 and protocol == "grouped":
        raise DatasetError("Speaker-independent evaluation needs clips from at least 2 actors.")
    label_order = [e for e in dataset.EMOTIONS if e in set(corpus.emotions)]
    augmented = load_augmentations(corpus, recipe, feature_set, jobs, cache_dir, progress)
    splits = make_splits(corpus.actors, corpus.emotions, protocol, folds, seed)
    report = {
        "data": os.path.abspath(data_dir), "clips": len(corpus.emotions),
        "actors": sorted(int(a) for a in set(corpus.actors)),
        "protocol": protocol, "folds": len(splits), "feature_set": feature_set,
        "recipe": recipe.to_dict(), "seed": seed,
        "fold_test_actors": [sorted(int(a) for a in set(corpus.actors[t])) for _, t in splits],
    }

    if grid is not None:
        rows = []
        for cand in grid:
            r = recipe.replace(**cand)
            t = time.perf_counter()
            res = cross_validate(corpus.X, corpus.emotions, splits,
                                 lambda tr, r=r: fit_emotion(corpus.X, corpus.emotions, tr,
                                                             augmented, seed, r),
                                 label_order=label_order)
            rows.append({"recipe": cand, "accuracy": res["accuracy"],
                         "macro_f1": res["macro_f1"],
                         "seconds": round(time.perf_counter() - t, 1)})
            log(f"  {_describe(cand):<48} {_pm(res['accuracy'])}  macro-F1 "
                f"{res['macro_f1']['mean']:.3f}")
        report["grid"] = sorted(rows, key=lambda row: -row["accuracy"]["mean"])
        report["seconds"] = round(time.perf_counter() - started, 1)
        return report

    blocks = {}
    if channel_test:
        for name in channels.TEST_CHANNELS:
            blocks[name] = augment.transformed_features(corpus.paths, name, feature_set, 0, jobs,
                                                        cache_dir, progress, corpus.digests)

    selected = []

    def fit_model(train):
        r = recipe
        if select:
            r, _ = select_recipe(corpus.X, corpus.emotions, corpus.actors, train, augmented,
                                 select, recipe, seed)
            selected.append(r.to_dict())
        return fit_emotion(corpus.X, corpus.emotions, train, augmented, seed, r)

    log(f"Evaluating {len(corpus.emotions)} clips, {len(set(corpus.actors))} actors, "
        f"{len(splits)} {protocol} folds ...")
    subset = [e for e in dataset.TUTORIAL_EMOTIONS if e in label_order]
    fits = {}
    report["emotion"] = cross_validate(
        corpus.X, corpus.emotions, splits, fit_model, blocks, label_order,
        subset if len(subset) == len(dataset.TUTORIAL_EMOTIONS) < len(label_order) else None,
        collect=fits)
    classes = list(fits["models"][0].classes_)
    tested = np.concatenate([test for _, test in splits])
    fold_of = np.concatenate([np.full(len(test), i) for i, (_, test) in enumerate(splits)])
    report["calibration"] = reliability.calibration_report(
        fits["proba"][tested], np.array([classes.index(v) for v in corpus.emotions[tested]]),
        fold_of)
    if long_clips and protocol == "grouped":
        log(f"Long recordings: {long_clips} of one emotion and {long_clips} mixtures per fold ...")
        report["long_clips"] = reliability.long_clip_report(
            corpus, splits, fits["models"], report["calibration"]["fold_temperatures"],
            get_config(feature_set), long_clips, seed, jobs)
    if select:
        report["selected_recipes"] = selected
    report["gender"] = cross_validate(
        corpus.X, corpus.genders, make_splits(corpus.actors, corpus.genders, protocol, folds, seed),
        lambda tr: fit_gender(corpus.X, corpus.genders, tr, augmented, seed, recipe), blocks)

    subset = [e for e in dataset.TUTORIAL_EMOTIONS if e in label_order]
    do_subset = tutorial_subset and len(subset) == len(dataset.TUTORIAL_EMOTIONS) \
        and set(label_order) != set(subset)
    if do_subset:
        rows = np.flatnonzero(np.isin(corpus.emotions, subset))
        sub_splits = make_splits(corpus.actors[rows], corpus.emotions[rows], protocol, folds, seed)
        sub_aug = [block[rows] for block in augmented]
        sub_blocks = {name: block[rows] for name, block in blocks.items()}
        X4, y4 = corpus.X[rows], corpus.emotions[rows]
        report["emotion_4"] = cross_validate(
            X4, y4, sub_splits, lambda tr: fit_emotion(X4, y4, tr, sub_aug, seed, recipe),
            sub_blocks, subset)

    if compare_baseline:
        baseline = Baseline(baseline_script)
        report["baseline"] = {"description": baseline.description, "params": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in baseline.mlp_params.items()}}
        Xb = baseline_features(baseline, corpus, None, jobs, cache_dir, progress)
        b_blocks = {name: baseline_features(baseline, corpus, name, jobs, cache_dir, progress)
                    for name in blocks} if baseline_channels else {}
        report["baseline"]["emotion"] = cross_validate(
            Xb, corpus.emotions, splits,
            lambda tr: baseline.model(seed).fit(Xb[tr], corpus.emotions[tr]), b_blocks,
            label_order)
        if do_subset:
            Xb4 = Xb[rows]
            report["baseline"]["emotion_4"] = cross_validate(
                Xb4, y4, sub_splits, lambda tr: baseline.model(seed).fit(Xb4[tr], y4[tr]),
                {name: block[rows] for name, block in b_blocks.items()}, subset)

    report["seconds"] = round(time.perf_counter() - started, 1)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        stem = os.path.join(out_dir, f"confusion_{protocol}")
        plots.confusion_matrix(report["emotion"]["confusion_matrix"], label_order,
                               stem + ".png", title=f"Confusion matrix ({_protocol_name(report)})")
        report["confusion_png"] = stem + ".png"
        if "calibration" in report:
            curves = {"before calibration": report["calibration"]["reliability_before"],
                      "calibrated (cross-fitted)": report["calibration"]["reliability_after"]}
            if "long_clips" in report:
                curves["long recordings, calibrated"] = report["long_clips"]["reliability"]
            report["reliability_png"] = os.path.join(out_dir, f"reliability_{protocol}.png")
            plots.reliability_diagram(curves, report["reliability_png"],
                                      f"Reliability ({_protocol_name(report)})")
        with open(os.path.join(out_dir, f"evaluation_{protocol}.json"), "w") as f:
            json.dump(report, f, indent=1)
        report["json"] = os.path.join(out_dir, f"evaluation_{protocol}.json")
    return report


# ----------------------------------------------------------------------------- text report

def _pm(s):
    return f"{100 * s['mean']:5.1f}% ± {100 * s['sd']:4.1f}"


def _describe(cand):
    return ", ".join(f"{k}={v}" for k, v in cand.items())


def _protocol_name(report):
    if report["protocol"] == "grouped":
        return f"{report['folds']}-fold grouped by actor, unseen speakers"
    return f"random 75/25 split x{report['folds']}, same speakers in train and test"


def confusion_text(matrix, labels):
    """The confusion matrix as aligned text (rows = true, columns = predicted)."""
    width = max(6, max(len(l) for l in labels) + 1)
    head = " " * width + "".join(f"{l[:6]:>7}" for l in labels)
    lines = [head] + [f"{l:<{width}}" + "".join(f"{v:>7d}" for v in row)
                      for l, row in zip(labels, matrix)]
    return "\n".join(lines)


def calibration_text(c):
    """The calibration figures as text."""
    share = f"{c['uncertain_share']:.0%}"
    flagged = "" if c["uncertain_accuracy"] is None else (
        f" (right {c['uncertain_accuracy']:.0%} as one answer, truth in their top two "
        f"{c['uncertain_top2_accuracy']:.0%})")
    return (f"\nCalibration (out-of-fold, 10 bins): ECE {c['ece_before']:.3f} before, "
            f"{c['ece_after']:.3f} after temperature scaling (each fold's temperature fitted on "
            f"the other folds: {', '.join(f'{t:.2f}' for t in c['fold_temperatures'])}); mean "
            f"top probability {c['mean_confidence_before']:.2f} -> "
            f"{c['mean_confidence_after']:.2f}, accuracy {c['accuracy']:.2f}.\n"
            f"  Uncertain below {c['uncertain_below']:.0%} (answers just under it were right "
            f"less than half of the time): {share} of answers{flagged}.")


def long_clips_text(r):
    """The long-recording figures as text."""
    lines = [f"\nLong recordings (synthetic, from each fold's test actors, analysed like an "
             f"upload; {r['recordings']} recordings):"]
    for kind, what in (("one emotion", "accuracy"), ("mixture", "majority emotion wins")):
        k = r[kind]
        rates = ", ".join(f"{name} {v:.1%}" for name, v in k["accuracy"].items())
        lines.append(f"  {kind} ({k['recordings']} of {k['clips_per_recording'][0]}-"
                     f"{k['clips_per_recording'][1]} clips, {k['mean_windows']:.1f} windows on "
                     f"average): {what}: {rates}")
    lines.append(f"  ECE {r['ece']:.3f} with the app's window temperature {r['long_temperature']}"
                 f" (mean top probability {r['mean_confidence']:.2f}); plain mean "
                 f"{r['ece_plain_mean']:.3f}; temperature fitted here "
                 f"{r['fitted_long_temperature']:.2f}, cross-fitted over the folds ECE "
                 f"{r['ece_cross_fitted']:.3f}")
    return "\n".join(lines)


def format_report(report):
    """Human-readable text of a run() report."""
    out = [f"Protocol: {_protocol_name(report)}; {report['clips']} clips, "
           f"{len(report['actors'])} actors; features '{report['feature_set']}'."]
    if report["protocol"] == "grouped":
        out.append("Test actors per fold: " + "; ".join(
            ",".join(f"{a:02d}" for a in fold) for fold in report["fold_test_actors"]))
    if "grid" in report:
        out.append("\nGrid (mean ± sd over folds, best first):")
        for row in report["grid"]:
            out.append(f"  {_describe(row['recipe']):<48} {_pm(row['accuracy'])}  macro-F1 "
                       f"{row['macro_f1']['mean']:.3f}  ({row['seconds']} s)")
        return "\n".join(out)
    emo = report["emotion"]
    n = len(emo["labels"])
    out.append(f"\n{n} emotions: accuracy {_pm(emo['accuracy'])}, macro-F1 "
               f"{100 * emo['macro_f1']['mean']:.1f} ± {100 * emo['macro_f1']['sd']:.1f}")
    out.append("  fold accuracy: " + " ".join(f"{100 * a:.1f}" for a in emo["accuracy"]["folds"]))
    out.append("  recall per emotion: " + ", ".join(
        f"{c} {100 * v['mean']:.0f}±{100 * v['sd']:.0f}" for c, v in emo["recall"].items()))
    out.append("\nConfusion matrix (rows true, columns predicted; all test folds pooled):")
    out.append(confusion_text(emo["confusion_matrix"], emo["labels"]))
    if "emotion_4" in report:
        e4 = report["emotion_4"]
        out.append(f"\n4 tutorial emotions ({', '.join(e4['labels'])}), model trained on "
                   f"them (the tutorials' set-up): accuracy {_pm(e4['accuracy'])}, macro-F1 "
                   f"{100 * e4['macro_f1']['mean']:.1f}")
    if "restricted" in emo:
        out.append(f"4 tutorial emotions, the {n}-emotion model choosing among those 4: accuracy "
                   f"{_pm(emo['restricted']['accuracy'])}")
    out.append(f"Gender: accuracy {_pm(report['gender']['accuracy'])}")
    if "calibration" in report:
        out.append(calibration_text(report["calibration"]))
    if "long_clips" in report:
        out.append(long_clips_text(report["long_clips"]))
    if "channels" in emo:
        out.append("\nChannel test (test folds re-scored after degradation; drop = clean - "
                   "degraded, percentage points):")
        for name, ch in emo["channels"].items():
            line = (f"  {name:<10} {channels.TEST_CHANNEL_DESCRIPTIONS.get(name, ''):<55} "
                    f"{_pm(ch['accuracy'])}  drop {ch['drop_points']:+.1f}")
            if "emotion_4" in report:
                line += f" | 4-emo drop {report['emotion_4']['channels'][name]['drop_points']:+.1f}"
            line += (f" | gender {100 * report['gender']['channels'][name]['accuracy']['mean']:.1f}%")
            out.append(line)
    if "baseline" in report:
        b = report["baseline"]
        out.append(f"\nBaseline, same folds: {b['description']}")
        out.append(f"  {len(b['emotion']['labels'])} emotions: accuracy {_pm(b['emotion']['accuracy'])}"
                   f", macro-F1 {100 * b['emotion']['macro_f1']['mean']:.1f}")
        if "emotion_4" in b:
            out.append(f"  4 tutorial emotions: accuracy {_pm(b['emotion_4']['accuracy'])}")
        for name, ch in b["emotion"].get("channels", {}).items():
            out.append(f"  {name:<10} {_pm(ch['accuracy'])}  drop {ch['drop_points']:+.1f}")
        out.append("\nSide by side (accuracy, mean over folds):")
        out.append(f"  {'':<22}{'this recipe':>12}{'baseline':>12}")
        out.append(f"  {'8 emotions' if n == 8 else f'{n} emotions':<22}"
                   f"{100 * emo['accuracy']['mean']:>11.1f}%{100 * b['emotion']['accuracy']['mean']:>11.1f}%")
        if "emotion_4" in b:
            out.append(f"  {'4 tutorial emotions':<22}{100 * report['emotion_4']['accuracy']['mean']:>11.1f}%"
                       f"{100 * b['emotion_4']['accuracy']['mean']:>11.1f}%")
    if "selected_recipes" in report:
        out.append("\nRecipes chosen by inner grouped CV per fold: " + "; ".join(
            _describe({k: v for k, v in r.items() if k in ("hidden", "alpha", "n_models")})
            for r in report["selected_recipes"]))
    if "confusion_png" in report:
        out.append(f"\nConfusion matrix PNG: {report['confusion_png']}; JSON: {report['json']}")
    if "reliability_png" in report:
        out.append(f"Reliability diagram PNG: {report['reliability_png']}")
    out.append(f"({report['seconds']:.0f} s)")
    return "\n".join(out)
