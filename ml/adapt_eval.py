"""Honest measurement of speaker adaptation: accuracy and calibration against the number of
reference clips, grouped by actor.

For every actor-grouped fold, the generic and the adapted model are fitted on the training
actors only. Every test actor's clips are split by RAVDESS repetition into two halves that hold
the same emotions, intensities and sentences; one half is the pool references are drawn from,
the other half is scored, then the halves swap. So reference clips are never scored and every k
(0 = the generic model) is scored on exactly the same clips. References are either random
clips of any emotion or neutral/calm clips only (a user asked to read sentences calmly).
"same speaker" adds the transductive case of `predict --same-speaker`: the statistics of all the
actor's clips, the scored one included.
"""
import json
import os
import time

import numpy as np

from . import calibration, dataset, inference, plots
from .adapt import DEFAULT_ADAPT, QUIET
from .audio import load_audio
from .extract import DEFAULT_CACHE_DIR
from .speaker import SpeakerStats, adapted_proba
from .train import DEFAULT_RECIPE, actor_folds, fit_adapted, fit_emotion, load_augmentations

KS = (0, 1, 2, 4, 8, 16, "all")
KINDS = {"random": "random emotions", "neutral_calm": "neutral/calm only"}


def _pools(clips, rows):
    """(pool, scored) row pairs: repetition-1 half vs repetition-2 half, both ways."""
    rep = np.array([clips[i].repetition for i in rows])
    a, b = rows[rep == 1], rows[rep == 2]
    return [(a, b), (b, a)] if len(a) and len(b) else []


def fit_fold(X, emotions, actors, train, augmented, seed, recipe, adapt_recipe, cache_dir):
    """(generic pipeline, AdaptedModel) fitted on the training rows of one fold."""
    generic = fit_emotion(X, emotions, train, augmented, seed, recipe, cache_dir)
    return generic, fit_adapted(X, emotions, actors, train, augmented, seed, recipe,
                                adapt_recipe, cache_dir)


def score_fold(X, emotions, clips, test, generic_form, adapted_form, repeats=5, seed=0,
               seconds=None):
    """{(kind, k): [(proba, truth, reference clips, their seconds of speech)]} for the test
    rows of one fold (seconds: speech length of every row, default 0)."""
    seconds = np.zeros(len(X)) if seconds is None else np.asarray(seconds)
    rng = np.random.default_rng(seed)
    actors = np.array([clips[i].actor for i in test])
    out = {}

    def add(key, proba, truth, refs=()):
        out.setdefault(key, []).append((proba, truth, len(refs), float(seconds[refs].sum())))

    for actor in np.unique(actors):
        rows = test[actors == actor]
        for pool, scored in _pools(clips, rows):
            truth = emotions[scored]
            generic = inference.predict_proba(generic_form, X[scored])
            for kind in KINDS:
                add((kind, 0), generic, truth)
            same = SpeakerStats.of(X[rows])
            add(("same_speaker", "all"), adapted_proba(adapted_form, X[scored], same, generic),
                truth, rows)
            for kind in KINDS:
                candidates = pool if kind == "random" else \
                    pool[np.isin(emotions[pool], QUIET)]
                for k in KS[1:]:
                    if k == "all" or k >= len(candidates):
                        sets = [candidates]
                    else:
                        sets = [rng.choice(candidates, k, replace=False) for _ in range(repeats)]
                    for ref in sets:
                        stats = SpeakerStats.of(X[ref])
                        add((kind, k), adapted_proba(adapted_form, X[scored], stats, generic),
                            truth, ref)
    return out


def _temperatures(per_fold, classes):
    """Per fold, a temperature for the generic and one for the adapted probabilities, each
    fitted on the OTHER folds' rows (cross-fitted calibration: no row calibrates itself;
    the adapted one on random references of every k pooled, as the artifact's is)."""
    def rows(fold, adapted):
        items = [i for key, its in fold.items() if key[0] != "neutral_calm"
                 and (key[1] != 0) == adapted for i in its]
        return (np.vstack([i[0] for i in items]),
                np.concatenate([[classes.index(t) for t in i[1]] for i in items]))

    out = []
    for f in range(len(per_fold)):
        others = [fold for g, fold in enumerate(per_fold) if g != f] or per_fold
        temps = {}
        for adapted in (False, True):
            parts = [rows(fold, adapted) for fold in others]
            scaler = calibration.TemperatureScaling().fit(
                np.vstack([p for p, _ in parts]), np.concatenate([t for _, t in parts]))
            temps[adapted] = scaler.form()
        out.append(temps)
    return out


def summarise(per_fold, classes):
    """Per (kind, k): accuracy mean/sd over folds, ECE of the raw and of the cross-fitted
    calibrated probabilities (pooled over folds), mean number of references."""
    classes = list(classes)
    temperatures = _temperatures(per_fold, classes)
    keys = {key for fold in per_fold for key in fold}
    table = {}
    for key in keys:
        accs, raw, calibrated, truths, refs = [], [], [], [], []
        for fold, temps in zip(per_fold, temperatures):
            items = fold.get(key, [])
            if not items:
                continue
            p = np.vstack([i[0] for i in items])
            t = np.array([classes.index(v) for i in items for v in i[1]])
            accs.append(float(np.mean(p.argmax(axis=1) == t)))
            raw.append(p)
            calibrated.append(inference.calibrate(temps[key[1] != 0], p))
            truths.append(t)
            refs += [i[2:] for i in items]
        truth = np.concatenate(truths)
        table[f"{key[0]}:{key[1]}"] = {
            "kind": key[0], "k": key[1], "accuracy_mean": float(np.mean(accs)),
            "accuracy_sd": float(np.std(accs)), "fold_accuracy": accs,
            "ece": calibration.ece(np.vstack(calibrated), truth),
            "ece_uncalibrated": calibration.ece(np.vstack(raw), truth),
            "reference_clips": float(np.mean([r[0] for r in refs])),
            "reference_seconds": float(np.mean([r[1] for r in refs])), "scored": int(len(truth))}
    return table


def run(data_dir, recipe=DEFAULT_RECIPE, adapt_recipe=DEFAULT_ADAPT, folds=5, seed=0,
        repeats=5, jobs=1, cache_dir=DEFAULT_CACHE_DIR, out_dir=None, progress=True, log=print):
    """Evaluate adaptation on a RAVDESS-layout folder; returns a JSON-ready report (with
    out_dir: also adaptation.json and adaptation.png there)."""
    from .evaluate import load_corpus  # scikit-learn metrics etc.: only when evaluating

    started = time.perf_counter()
    corpus = load_corpus(data_dir, dataset.EMOTIONS, "default", jobs, cache_dir, progress)
    seconds = [load_audio(path).duration_s for path in corpus.paths]  # speech after trimming
    augmented = load_augmentations(corpus, recipe, "default", jobs, cache_dir, progress)
    splits = list(actor_folds(corpus.actors, folds))
    log(f"Evaluating speaker adaptation: {len(corpus.emotions)} clips, "
        f"{len(set(corpus.actors))} actors, {len(splits)} folds grouped by actor ...")
    per_fold, classes = [], None
    for i, (train, test) in enumerate(splits):
        generic, adapted = fit_fold(corpus.X, corpus.emotions, corpus.actors, train, augmented,
                                    seed, recipe, adapt_recipe, cache_dir)
        classes = [str(c) for c in generic.classes_]
        per_fold.append(score_fold(corpus.X, corpus.emotions, corpus.clips, test,
                                   inference.from_pipeline(generic), adapted.inference_form(),
                                   repeats, seed + i, seconds))
        log(f"  fold {i + 1}/{len(splits)} done")
    report = {"data": os.path.abspath(data_dir), "clips": len(corpus.emotions),
              "folds": len(splits), "repeats": repeats, "seed": seed,
              "adapt_recipe": adapt_recipe.to_dict(), "recipe": recipe.to_dict(),
              "fold_test_actors": [sorted(int(a) for a in set(corpus.actors[t]))
                                   for _, t in splits],
              "table": summarise(per_fold, classes),
              "seconds": round(time.perf_counter() - started, 1)}
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        report["png"] = plot(report, os.path.join(out_dir, "adaptation.png"))
        report["json"] = os.path.join(out_dir, "adaptation.json")
        with open(report["json"], "w") as f:
            json.dump(report, f, indent=1)
    return report


def format_report(report):
    """Human-readable text of a run() report: the table, where the files went, the time."""
    out = [f"Speaker adaptation, {report['folds']}-fold grouped by actor, 8 emotions; "
           f"accuracy mean ± sd over folds; ECE of calibrated probabilities (temperatures "
           f"cross-fitted on the other folds), pooled; random references drawn "
           f"{report['repeats']}x per actor and half:", "", format_table(report)]
    if "png" in report:
        out.append(f"\nPlot: {report['png']}; JSON: {report['json']}")
    out.append(f"({report['seconds']:.0f} s)")
    return "\n".join(out)


def format_table(report):
    """The enrolment curve as a Markdown table (accuracy ± sd over folds, ECE)."""
    table = report["table"]
    head = "| reference clips k | " + " | ".join(KINDS.values()) + " |"
    lines = [head, "|---|" + "---|" * len(KINDS)]
    for k in KS:
        cells = []
        for kind in KINDS:
            row = table.get(f"{kind}:{k}")
            if row is None:
                cells.append("—")
                continue
            note = f" (k={row['reference_clips']:.0f})" if k == "all" else ""
            cells.append(f"{100 * row['accuracy_mean']:.1f}% ± {100 * row['accuracy_sd']:.1f}, "
                         f"ECE {row['ece']:.3f}{note}")
        random = table.get(f"random:{k}")
        label = "0 (generic model)" if k == 0 else str(k)
        if random and k != 0:
            label += f" (≈ {random['reference_seconds']:.0f} s of speech)"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    same = table.get("same_speaker:all")
    if same:
        lines.append(f"| same speaker, all {same['reference_clips']:.0f} clips incl. the scored "
                     f"one (`--same-speaker`) | {100 * same['accuracy_mean']:.1f}% ± "
                     f"{100 * same['accuracy_sd']:.1f}, ECE {same['ece']:.3f} | |")
    return "\n".join(lines)


def plot(report, path):
    """PNG of accuracy against k for both kinds of reference (ml.plots style)."""
    curves = {}
    for kind, label in KINDS.items():
        points = [(report["table"][f"{kind}:{k}"]["reference_clips"],
                   report["table"][f"{kind}:{k}"]["accuracy_mean"])
                  for k in KS if f"{kind}:{k}" in report["table"]]
        curves[label] = sorted(points)
    plots.enrolment_curve(curves, path)
    return path

