"""Feature vectors of transformed clips: training augmentation and channel-test conditions.

A transformed clip is: decode at the file's own rate -> transform (ml.channels) -> the product's
usual preparation (mono, 16 kHz, trim, level normalisation) -> features. Vectors are cached per
(feature configuration, transform, copy, file content), exactly like untransformed ones.

Augmented copies are a deterministic function of the clip's content and the copy number, so they
can be computed once for the whole corpus; the training code only ever uses the copies of the
clips in its training part (never copies of test clips).
"""
import os
import zlib

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from . import channels, features
from .audio import decode, prepare
from .errors import AudioError
from .extract import DEFAULT_CACHE_DIR, FeatureCache, file_hash

# Bumped when any transform's output changes, so every cached copy is rebuilt (3: Opus through
# libopus/PyAV, fast-length FFTs in colour and pink noise).
AUGMENT_VERSION = 3


def _speed(y, r, rng):
    return channels.speed(y, r, rng.uniform(0.9, 1.1))


def _noise(y, r, rng):
    return channels.noise(y, r, rng.uniform(10, 30), rng.choice(["white", "pink"]), rng)


def _codec(y, r, rng):
    if rng.random() < 0.5:
        return channels.mp3(y, r, float(rng.choice([0.8, 0.9, 0.95])))
    return channels.opus(y, r, kbps=int(rng.choice([16, 20, 24, 32])), complexity=5)


def _telephone(y, r, rng):
    return channels.telephone(y, r, mu_law=bool(rng.integers(2)))


def _colour(y, r, rng):
    return channels.colour(y, r, rng.uniform(-3, 3), float(rng.choice([0, 80, 150])))


def _band(y, r, rng):
    return channels.band_limit(y, r, rng.uniform(50, 300), rng.uniform(3000, 7000))


SINGLE = {"speed": _speed, "noise": _noise, "codec": _codec, "telephone": _telephone,
          "colour": _colour, "band": _band}


def _mix(y, r, rng):
    """A random chain: optional speed, then one or two of colour/band/telephone/codec/noise."""
    if rng.random() < 0.5:
        y, r = _speed(y, r, rng)
    if rng.random() < 0.5:
        y, r = _colour(y, r, rng)
    channel = rng.choice(["none", "band", "telephone", "codec", "codec"])
    if channel != "none":
        y, r = SINGLE[channel](y, r, rng)
    if rng.random() < 0.5:
        y, r = _noise(y, r, rng)
    return y, r


TRANSFORMS = dict(SINGLE, mix=_mix)


def transform_key(name, copy):
    """Cache-folder name of one transform (augmentation copy or test channel)."""
    return f"{name}-{copy}-v{AUGMENT_VERSION}"


def apply(name, y, rate, digest="0" * 8, copy=0):
    """Apply a named transform: a test channel (channels.TEST_CHANNELS) or an augmentation.

    Augmentations draw their random parameters from a generator seeded by the clip's content
    hash, the transform name and the copy number, so the same clip always gets the same copy.
    """
    if name in channels.TEST_CHANNELS:
        return channels.TEST_CHANNELS[name](y, rate)
    rng = np.random.default_rng([int(digest[:8], 16), zlib.crc32(name.encode()), copy])
    return TRANSFORMS[name](y, rate, rng)


def _prepared(path, digest, name, copy, audio_dir):
    """The transformed clip after the product's preparation; cached as .npy if audio_dir."""
    cached = os.path.join(audio_dir, transform_key(name, copy), digest + ".npy") \
        if audio_dir else None
    if cached and os.path.exists(cached):
        try:
            return np.load(cached)
        except (OSError, ValueError):
            pass
    decoded = decode(path, rate=None)
    y, rate = apply(name, decoded.samples, decoded.rate, digest, copy)
    samples = prepare(y, rate).samples
    if cached:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        tmp = cached + f".{os.getpid()}.tmp.npy"
        np.save(tmp, samples)
        os.replace(tmp, cached)
    return samples


def _one(path, digest, name, copy, config, audio_dir=None):
    try:
        return features.extract(_prepared(path, digest, name, copy, audio_dir), config), None
    except AudioError as exc:
        return None, str(exc)
    except Exception as exc:  # one bad file must not stop a batch
        return None, f"{type(exc).__name__}: {exc}"


def transformed_features(paths, name, config, copy=0, jobs=1, cache_dir=DEFAULT_CACHE_DIR,
                         progress=True, digests=None, audio_cache=None):
    """Feature vectors of every path after transform `name` (copy `copy`).

    audio_cache: also keep the transformed, prepared waveforms (float32 .npy) under
    cache_dir/audio, so that a new feature version does not re-run slow codecs. Default: the
    SER_AUDIO_CACHE environment variable ("1" = on); it costs ~100 kB per clip and copy.

    Returns an array [len(paths), d] with NaN rows where a clip could not be processed.
    """
    config = features.get_config(config) if isinstance(config, str) else config
    sub = os.path.join(cache_dir, "transformed", transform_key(name, copy)) if cache_dir else None
    cache = FeatureCache(sub, config)
    digests = digests or [file_hash(p) for p in paths]
    vectors = [cache.get(d) for d in digests]
    todo = [i for i, v in enumerate(vectors) if v is None]
    bar = tqdm(total=len(todo), desc=f"Features [{name} #{copy}]", unit="clip",
               disable=not progress or not todo)
    if audio_cache is None:
        audio_cache = os.environ.get("SER_AUDIO_CACHE", "") == "1"
    audio_dir = os.path.join(cache_dir, "audio") if (cache_dir and audio_cache) else None
    work = Parallel(n_jobs=jobs, return_as="generator", batch_size=8)(
        delayed(_one)(paths[i], digests[i], name, copy, config, audio_dir) for i in todo)
    for i, (vec, _err) in zip(todo, work):
        bar.update(1)
        if vec is not None:
            vectors[i] = vec
            cache.put(digests[i], vec)
    bar.close()
    dim = next((len(v) for v in vectors if v is not None), 0)
    out = np.full((len(paths), dim), np.nan, dtype=np.float32)
    for i, v in enumerate(vectors):
        if v is not None:
            out[i] = v
    return out


def parse_augment(spec):
    """'mix*3,speed' -> [("mix", 0), ("mix", 1), ("mix", 2), ("speed", 0)]; '' or 'none' -> []."""
    copies = []
    if not spec or spec == "none":
        return copies
    for part in spec.split(","):
        part = part.strip()
        name, _, count = part.partition("*")
        if name not in TRANSFORMS:
            raise ValueError(f"Unknown augmentation {name!r}; choose from {', '.join(TRANSFORMS)}.")
        copies += [(name, c) for c in range(int(count or 1))]
    return copies


def content_digests(paths):
    """Content hashes of the files (shared by every transform's cache)."""
    return [file_hash(p) for p in paths]

