"""Numpy-only forward pass of a fitted pipeline (StandardScaler + one MLP or an MLP ensemble)
and of its probability calibration (ml.calibration).

The artifact stores this form beside the pickled scikit-learn pipelines, so that predicting needs
only numpy: no scikit-learn import (about 1 s and 40 MB per process) and no per-call input
validation. `from_pipeline` runs at training time; tests check it against the pipeline's own
predict_proba.
"""
import numpy as np

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0, out=z),
    "tanh": np.tanh,
    "logistic": lambda z: np.exp(-np.logaddexp(0, -z)),
    "identity": lambda z: z,
}


def from_pipeline(pipeline):
    """The plain-array form of a fitted Pipeline([("scaler", StandardScaler), (.., model)]) whose
    model is an MLPClassifier or has `estimators_` of them (averaged)."""
    scaler, model = pipeline[0], pipeline[-1]
    members = getattr(model, "estimators_", [model])
    return {
        "classes": [str(c) for c in model.classes_],
        "mean": np.asarray(scaler.mean_, np.float32),
        "scale": np.asarray(scaler.scale_, np.float32),
        "members": [{"activation": m.activation, "output": m.out_activation_,
                     "weights": [np.asarray(w, np.float32) for w in m.coefs_],
                     "biases": [np.asarray(b, np.float32) for b in m.intercepts_]}
                    for m in members],
    }


def _member_proba(member, x):
    hidden = ACTIVATIONS[member["activation"]]
    layers = list(zip(member["weights"], member["biases"]))
    for w, b in layers[:-1]:
        x = hidden(x @ w + b)
    w, b = layers[-1]
    z = x @ w + b
    if member["output"] == "logistic":  # binary: one output unit = P(second class)
        p = np.exp(-np.logaddexp(0, -z[:, 0]))
        return np.column_stack([1 - p, p])
    z -= z.max(axis=1, keepdims=True)   # softmax
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def predict_proba(form, X):
    """Class probabilities [n, classes] for feature rows X [n, d] (members averaged)."""
    x = (np.asarray(X, np.float32) - form["mean"]) / form["scale"]
    return np.mean([_member_proba(m, x) for m in form["members"]], axis=0)


def calibrate(form, proba):
    """Apply a calibration form ({"method": "temperature", "temperature": T}; None = identity)
    to probabilities [n, k]: softmax(log p / T). The class ranking is unchanged."""
    proba = np.asarray(proba, np.float64)
    if not form:
        return proba / proba.sum(axis=1, keepdims=True)
    if form.get("method") != "temperature":
        raise ValueError(f"Unknown calibration method {form.get('method')!r}.")
    z = np.log(np.clip(proba, 1e-12, 1.0)) / form["temperature"]
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)
