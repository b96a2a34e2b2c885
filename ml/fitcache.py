"""Memoised model fits: a fitted estimator is stored under a hash of everything it depends on.

Training is deterministic given the training rows, their labels, the model specification (recipe
and seed) and the library versions, so a re-run of `train_model` with the same data and recipe
can load each fit (cross-validation folds and the final models) instead of repeating it. Any
change to the rows (data, features, augmentation), labels, recipe, seed or scikit-learn/numpy
version gives a different key, i.e. a real fit. Entries live next to the feature cache.
"""
import hashlib
import json
import os
import tempfile

import joblib
import numpy as np
import sklearn


def fit_key(X, y, spec):
    """Hex digest identifying a fit of spec (a JSON-able dict) on rows X with labels y."""
    X = np.ascontiguousarray(X)
    h = hashlib.sha1()
    h.update(f"{X.shape}|{X.dtype}|{sklearn.__version__}|{np.__version__}|".encode())
    h.update(X.tobytes())
    h.update("\0".join(map(str, y)).encode())
    h.update(json.dumps(spec, sort_keys=True, default=str).encode())
    return h.hexdigest()[:24]


def cached_fit(build, X, y, spec, cache_dir):
    """build() returns an unfitted estimator; returns it fitted on (X, y), from cache_dir/fits
    when the same fit was made before (None cache_dir: always fit)."""
    if not cache_dir:
        return build().fit(X, y)
    folder = os.path.join(cache_dir, "fits")
    path = os.path.join(folder, fit_key(X, y, spec) + ".joblib")
    if os.path.exists(path):
        try:
            return joblib.load(path)
        except Exception:  # unreadable entry (interrupted write, other versions): refit
            pass
    model = build().fit(X, y)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return model
