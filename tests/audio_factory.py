"""Test audio: real RAVDESS clips re-encoded in every format, rate and channel layout."""
import os

import numpy as np
import soundfile as sf
import soxr

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "..", "shared", "data", "ravdess")


def clip_path(actor=1, emotion=5, intensity=2, statement=1, repetition=1):
    """Path of one shared RAVDESS clip."""
    name = f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}.wav"
    return os.path.join(DATA_DIR, f"Actor_{actor:02d}", name)


def speech(rate=16000, channels=1, actor=1, emotion=5):
    """A real speech clip as float32 [frames, channels] at the given rate."""
    y, sr = sf.read(clip_path(actor, emotion), dtype="float32")
    if rate != sr:
        y = soxr.resample(y, sr, rate)
    gains = np.linspace(1.0, 0.6, channels)
    return np.stack([y * g for g in gains], axis=1).astype(np.float32)


def write(path, data, rate, fmt=None, subtype=None):
    """Write data with soundfile and return the path."""
    sf.write(path, data, rate, format=fmt, subtype=subtype)
    return str(path)


def ravdess_subset(root, actors, keep=lambda name: True):
    """Link the shared clips of the given actors whose file name passes keep() into root, in the
    RAVDESS layout (Actor_NN/...); returns root as a string."""
    for actor in actors:
        source = os.path.join(DATA_DIR, f"Actor_{actor:02d}")
        folder = os.path.join(str(root), f"Actor_{actor:02d}")
        os.makedirs(folder, exist_ok=True)
        for name in sorted(os.listdir(source)):
            if keep(name):
                os.symlink(os.path.join(source, name), os.path.join(folder, name))
    return str(root)
