"""Calibration: probabilities that mean what they say.

`TemperatureScaling` (scikit-learn estimator API) is fitted on out-of-fold probabilities from
actor-grouped cross-validation inside `train_model` and divides the log-probabilities by one
temperature T > 0 (Guo et al. 2017): the ranking of the classes, hence accuracy, is unchanged;
T > 1 softens an overconfident model. Its plain form ({"method": "temperature",
"temperature": T}) goes into the artifact's numpy-only inference forms and is applied by
`ml.inference.calibrate` whenever probabilities are shown or returned.

Also here: expected calibration error (ECE, equal-width bins), the cross-fitted out-of-fold
calibration used for honest ECE figures, and the choice of the "uncertain" threshold.
"""
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator

from .inference import calibrate

ECE_BINS = 10


class TemperatureScaling(BaseEstimator):
    """Fit one temperature on (probabilities [n, k], true labels) by minimising the negative
    log-likelihood; `classes` gives the label of each probability column."""

    def __init__(self, classes=None, bounds=(0.05, 20.0)):
        self.classes = classes
        self.bounds = bounds

    def _indices(self, y):
        classes = list(self.classes) if self.classes is not None else None
        if classes is None:
            return np.asarray(y, dtype=int)
        return np.array([classes.index(label) for label in y])

    def fit(self, X, y):
        """X: uncalibrated probabilities [n, k]; y: true labels (or column indices)."""
        proba = np.asarray(X, dtype=np.float64)
        truth = self._indices(y)
        logp = np.log(np.clip(proba, 1e-12, 1.0))

        def nll(log_t):
            z = logp / np.exp(log_t)
            z -= z.max(axis=1, keepdims=True)
            return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), truth]))

        lo, hi = np.log(self.bounds[0]), np.log(self.bounds[1])
        best = minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-4})
        self.temperature_ = float(np.exp(best.x))
        self.classes_ = np.asarray(self.classes) if self.classes is not None else \
            np.arange(proba.shape[1])
        return self

    def form(self):
        """The plain-dict form stored in the artifact's inference forms."""
        return {"method": "temperature", "temperature": self.temperature_}

    def predict_proba(self, X):
        """Calibrated probabilities of uncalibrated probabilities X [n, k]."""
        return calibrate(self.form(), X)

    def predict(self, X):
        """The most probable class (the same as before calibration)."""
        return self.classes_[np.argmax(np.asarray(X), axis=1)]


def reliability(proba, truth, bins=ECE_BINS):
    """Per bin of top probability: (mean top probability, accuracy, count), for the diagram."""
    proba = np.asarray(proba, dtype=np.float64)
    top = proba.max(axis=1)
    hit = proba.argmax(axis=1) == np.asarray(truth)
    which = np.minimum((top * bins).astype(int), bins - 1)
    return [{"bin": [b / bins, (b + 1) / bins], "count": int((which == b).sum()),
             "confidence": float(top[which == b].mean()) if (which == b).any() else None,
             "accuracy": float(hit[which == b].mean()) if (which == b).any() else None}
            for b in range(bins)]


def ece(proba, truth, bins=ECE_BINS):
    """Expected calibration error: |accuracy - mean top probability| per equal-width bin of the
    top probability (reliability), weighted by the share of rows in the bin. truth: column
    indices."""
    table = reliability(proba, truth, bins)
    n = sum(b["count"] for b in table)
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in table if b["count"]))


def fold_temperatures(proba, truth, groups):
    """{group: temperature fitted on the OTHER groups' rows} (a CV test fold each; with a single
    group, fitted on that group, in-sample). truth: column indices."""
    proba, truth, groups = (np.asarray(proba, dtype=np.float64), np.asarray(truth),
                            np.asarray(groups))
    names = np.unique(groups)
    out = {}
    for g in names:
        fit_rows = groups != g if len(names) > 1 else groups == g
        out[g] = TemperatureScaling().fit(proba[fit_rows], truth[fit_rows]).temperature_
    return out


def cross_fitted(proba, truth, groups, temperatures=None):
    """Calibrated out-of-fold probabilities where each group's rows (a CV test fold) are scaled
    with a temperature fitted on the OTHER groups only (fold_temperatures, unless given), so no
    row calibrates itself. truth: column indices."""
    proba, groups = np.asarray(proba, dtype=np.float64), np.asarray(groups)
    temperatures = temperatures or fold_temperatures(proba, truth, groups)
    out = np.empty_like(proba)
    for g, t in temperatures.items():
        rows = groups == g
        out[rows] = calibrate({"method": "temperature", "temperature": t}, proba[rows])
    return out


UNCERTAIN_GRID = np.round(np.arange(0.30, 0.801, 0.05), 2)
UNCERTAIN_BAND = 0.1


def uncertain_threshold(proba, truth):
    """The top probability under which an answer is called uncertain, from calibrated
    out-of-fold probabilities: the highest t on UNCERTAIN_GRID such that the answers whose top
    probability lies just under it (in [t - UNCERTAIN_BAND, t)) were right less than half of
    the time, i.e. such an answer is more likely wrong than right."""
    proba = np.asarray(proba, dtype=np.float64)
    top = proba.max(axis=1)
    hit = proba.argmax(axis=1) == np.asarray(truth)
    chosen = float(UNCERTAIN_GRID[0])
    for t in UNCERTAIN_GRID:
        band = (top >= t - UNCERTAIN_BAND) & (top < t)
        if band.any() and hit[band].mean() < 0.5:
            chosen = float(t)
    return chosen


def summary(raw, calibrated, truth, threshold):
    """JSON-ready figures: ECE before/after, mean confidence, accuracy, share uncertain and how
    often the top two hold the truth when uncertain."""
    raw, calibrated, truth = np.asarray(raw), np.asarray(calibrated), np.asarray(truth)
    top = calibrated.max(axis=1)
    unsure = top < threshold
    top2 = np.argsort(-calibrated, axis=1)[:, :2]
    in_top2 = (top2 == truth[:, None]).any(axis=1)
    return {
        "clips": int(len(truth)),
        "accuracy": float(np.mean(calibrated.argmax(axis=1) == truth)),
        "ece_before": ece(raw, truth), "ece_after": ece(calibrated, truth),
        "mean_confidence_before": float(raw.max(axis=1).mean()),
        "mean_confidence_after": float(top.mean()),
        "uncertain_share": float(unsure.mean()),
        "uncertain_accuracy": float(np.mean((calibrated.argmax(axis=1) == truth)[unsure]))
        if unsure.any() else None,
        "uncertain_top2_accuracy": float(in_top2[unsure].mean()) if unsure.any() else None,
    }
