"""Feature extraction over many files: content-hash cache, parallel workers, progress bar.

A cached vector is found by (feature configuration, fingerprint of the feature code, SHA-1 of
the file's bytes): editing a file, changing the configuration (or its version) or changing the
code that computes features each make the old entries unreachable, so they are recomputed.
"""
import hashlib
import os
from functools import lru_cache

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from . import features
from .audio import load_audio
from .errors import AudioError

DEFAULT_CACHE_DIR = os.environ.get(
    "SER_FEATURE_CACHE",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "features"))


def file_hash(path):
    """SHA-1 of a file's bytes (the cache key, so renamed or moved files still hit)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


FEATURE_CODE = ("audio.py", "features.py", "pitch.py", "descriptors.py")


@lru_cache(maxsize=1)
def code_fingerprint():
    """Short hash of the source of the modules that turn a file into a feature vector."""
    h = hashlib.sha1()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in FEATURE_CODE:
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:8]


class FeatureCache:
    """One .npy file per (feature configuration + code, file content); None cache_dir disables
    it."""

    def __init__(self, cache_dir, config):
        self.folder = (os.path.join(cache_dir, f"{config.key}-{code_fingerprint()}")
                       if cache_dir else None)
        if self.folder:
            os.makedirs(self.folder, exist_ok=True)

    def _file(self, digest):
        return os.path.join(self.folder, digest + ".npy")

    def get(self, digest):
        """The cached vector for this content hash, or None."""
        if not self.folder or not os.path.exists(self._file(digest)):
            return None
        try:
            return np.load(self._file(digest))
        except (OSError, ValueError):
            return None

    def put(self, digest, vector):
        """Store a vector atomically."""
        if self.folder:
            tmp = self._file(digest) + f".{os.getpid()}.tmp.npy"
            np.save(tmp, vector)
            os.replace(tmp, self._file(digest))


def _one(path, config):
    try:
        return features.extract(load_audio(path).samples, config), None
    except AudioError as exc:
        return None, str(exc)
    except Exception as exc:  # an unreadable file must not stop a batch
        return None, f"{type(exc).__name__}: {exc}"


def extract_files(paths, config, jobs=1, cache_dir=DEFAULT_CACHE_DIR, progress=True):
    """Feature vectors for paths; returns (X [n_ok, d], ok_indices, {path: error})."""
    config = features.get_config(config) if isinstance(config, str) else config
    cache = FeatureCache(cache_dir, config)
    digests = [file_hash(p) for p in paths]
    vectors = [cache.get(d) for d in digests]
    todo = [i for i, v in enumerate(vectors) if v is None]
    bar = tqdm(total=len(todo), desc="Extracting features", unit="clip",
               disable=not progress or not todo)
    work = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(_one)(paths[i], config) for i in todo) if todo else []
    errors = {}
    for i, (vec, err) in zip(todo, work):
        bar.update(1)
        if err:
            errors[paths[i]] = err
        else:
            vectors[i] = vec
            cache.put(digests[i], vec)
    bar.close()
    ok = [i for i, v in enumerate(vectors) if v is not None]
    X = np.vstack([vectors[i] for i in ok]) if ok else np.empty((0, 0), np.float32)
    return X, ok, errors
