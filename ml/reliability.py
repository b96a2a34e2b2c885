"""Does the model mean what it says? Calibration and long-recording checks for `evaluate`.

- `calibration_report`: ECE (10 bins) and reliability bins of the out-of-fold probabilities
  before and after temperature scaling (cross-fitted: each fold's temperature is fitted on the
  other folds' out-of-fold probabilities), the uncertain threshold and what it flags.
- `long_clip_report`: synthetic long recordings (ml.longclips) built from the TEST actors of
  every grouped fold, analysed like an upload (ml.segment: speech detection, overlapping
  windows) with that fold's model and temperature: accuracy of the headline on recordings of
  one emotion, how often the majority emotion of a mixture wins, their ECE, and the same with
  other ways of combining the windows (for comparison).
"""
import numpy as np
from joblib import Parallel, delayed

from . import calibration, longclips, segment
from .errors import AudioError
from .inference import calibrate


def calibration_report(proba, truth, fold_of):
    """JSON-ready calibration figures of out-of-fold probabilities (truth: column indices),
    plus each fold's cross-fitted temperature ("fold_temperatures")."""
    by_fold = calibration.fold_temperatures(proba, truth, fold_of)
    calibrated = calibration.cross_fitted(proba, truth, fold_of, by_fold)
    temperatures = list(by_fold.values())
    threshold = calibration.uncertain_threshold(calibrated, truth)
    return {**calibration.summary(proba, calibrated, truth, threshold),
            "uncertain_below": threshold, "fold_temperatures": temperatures,
            "reliability_before": calibration.reliability(proba, truth),
            "reliability_after": calibration.reliability(calibrated, truth)}


def _geometric(proba, weights):
    """Speech-weighted mean of log-probabilities, renormalised."""
    z = np.average(np.log(np.clip(proba, 1e-9, 1)), axis=0, weights=weights)
    z = np.exp(z - z.max())
    return z / z.sum()


def _vote(proba, weights):
    """Share of the windows (weighted by speech) that name each emotion."""
    votes = np.zeros(proba.shape[1])
    np.add.at(votes, proba.argmax(axis=1), weights)
    return votes / votes.sum()


COMBINERS = {"speech-weighted mean (used)": segment.aggregate, "geometric mean": _geometric,
             "vote of windows": _vote}


def _analyse(samples, model, temperature, config):
    """Calibrated window probabilities [n, k] and their speech weights for one recording."""
    plan = segment.plan(samples)
    X = segment.featurise(plan, config)
    proba = calibrate({"method": "temperature", "temperature": temperature},
                      model.predict_proba(X))
    return proba, [w.speech_s for w in plan.speech_windows]


def long_clip_report(corpus, splits, models, temperatures, config, per_fold=8, seed=0, jobs=1):
    """Accuracy of long synthetic recordings from each fold's test actors (per_fold of one
    emotion and per_fold mixtures per fold)."""
    rows = []  # (kind, label index, {combiner: proba}, windows, clips, fold, plain mean)
    for fold, ((_, test), model, temperature) in enumerate(zip(splits, models, temperatures)):
        classes = list(model.classes_)
        paths = [corpus.paths[i] for i in test]
        labels = corpus.emotions[test]
        clips = [("one emotion", c) for c in longclips.build(paths, labels, per_fold, False,
                                                              seed + 2 * fold)] + \
                [("mixture", c) for c in longclips.build(paths, labels, per_fold, True,
                                                          seed + 2 * fold + 1)]
        done = Parallel(n_jobs=jobs)(delayed(_safe_analyse)(c.samples, model, temperature,
                                                            config) for _, c in clips)
        for (kind, clip), result in zip(clips, done):
            if result is None:  # no speech found: counts as wrong
                rows.append((kind, classes.index(clip.label), None, 0, len(clip.parts), fold,
                             None))
                continue
            proba, weights = result
            rows.append((kind, classes.index(clip.label),
                         {name: f(proba, weights) for name, f in COMBINERS.items()},
                         len(proba), len(clip.parts), fold, segment.weighted_mean(proba, weights)))
    report = {"per_fold": per_fold, "recordings": len(rows)}
    for kind in ("one emotion", "mixture"):
        mine = [r for r in rows if r[0] == kind]
        report[kind] = {
            "recordings": len(mine),
            "clips_per_recording": [int(min(r[4] for r in mine)), int(max(r[4] for r in mine))],
            "mean_windows": float(np.mean([r[3] for r in mine])),
            "accuracy": {name: float(np.mean([r[2] is not None and
                                              int(np.argmax(r[2][name])) == r[1] for r in mine]))
                         for name in COMBINERS}}
    used = next(iter(COMBINERS))
    scored = [r for r in rows if r[2] is not None and r[3] > 1]  # several windows
    proba = np.array([r[2][used] for r in scored])
    truth = np.array([r[1] for r in scored])
    plain = np.array([r[6] for r in scored])
    folds = np.array([r[5] for r in scored])
    report["ece"] = calibration.ece(proba, truth)
    report["mean_confidence"] = float(proba.max(axis=1).mean())
    report["reliability"] = calibration.reliability(proba, truth)
    report["ece_plain_mean"] = calibration.ece(plain, truth)
    report["fitted_long_temperature"] = calibration.TemperatureScaling().fit(
        plain, truth).temperature_
    report["ece_cross_fitted"] = calibration.ece(calibration.cross_fitted(plain, truth, folds),
                                                 truth)
    report["long_temperature"] = segment.LONG_TEMPERATURE
    return report


def _safe_analyse(samples, model, temperature, config):
    try:
        return _analyse(samples, model, temperature, config)
    except AudioError:
        return None
