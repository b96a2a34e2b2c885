"""Synthetic long recordings built from short labelled clips, to check the long-recording path.

A long clip is 4-12 clips (their own leading/trailing silence trimmed, level-normalised) joined
with short pauses of faint noise: either all of one emotion, or a mixture in which one emotion
has the majority of the clips. `evaluate` builds them from the TEST actors of every grouped
fold; tests build them from actors the test model never heard.
"""
from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE, decode, trim_and_normalise

MIN_CLIPS, MAX_CLIPS = 4, 12
PAUSE_S = (0.2, 0.6)
NOISE_DBFS = -60.0


@dataclass
class LongClip:
    """Samples (16 kHz mono) of a joined recording, the emotion of each part, and the
    majority emotion (the expected answer)."""
    samples: np.ndarray
    parts: list
    label: str
    onsets_s: list


def join(paths, emotions, rng, pause_s=PAUSE_S):
    """Join the clips at paths (labelled emotions) with random pauses; returns a LongClip."""
    pieces, onsets, t = [], [], 0.0
    for path in paths:
        pause = rng.normal(0, 10 ** (NOISE_DBFS / 20), int(rng.uniform(*pause_s) * SAMPLE_RATE))
        clip = trim_and_normalise(decode(path).samples)
        pieces += [pause.astype(np.float32), clip]
        onsets.append(round(t + len(pause) / SAMPLE_RATE, 3))
        t += (len(pause) + len(clip)) / SAMPLE_RATE
    tail = rng.normal(0, 10 ** (NOISE_DBFS / 20), int(0.5 * SAMPLE_RATE)).astype(np.float32)
    values, counts = np.unique(emotions, return_counts=True)
    return LongClip(np.concatenate(pieces + [tail]), list(emotions),
                    str(values[np.argmax(counts)]), onsets)


def build(paths, emotions, n, mixed, seed=0):
    """n long clips from the clips (paths, emotions): `mixed` ones have a strict-majority
    emotion (at least 60% of their clips) plus one or two others; the others are all of one
    emotion. Emotions are drawn in turn so every emotion is used."""
    rng = np.random.default_rng(seed)
    emotions = np.asarray(emotions)
    paths = np.asarray(paths)
    names = sorted(set(emotions.tolist()))
    clips = []
    for i in range(n):
        main = names[i % len(names)]
        k = int(rng.integers(MIN_CLIPS, MAX_CLIPS + 1))
        n_main = k if not mixed else int(np.ceil(0.6 * k + 1e-9))
        others = [e for e in names if e != main]
        chosen = [main] * n_main + list(rng.choice(others, k - n_main)) if mixed and others \
            else [main] * k
        rng.shuffle(chosen)
        picked = [rng.choice(paths[emotions == e]) for e in chosen]
        clips.append(join(picked, chosen, rng))
    return clips
