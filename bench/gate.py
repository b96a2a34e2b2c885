"""Cost of the speech gate per clip: the analysis path with and without speech detection.

    python bench/gate.py [--data ../shared/data/ravdess] [--actors 1-4] [--rounds 3]

On one core (taskset it, or run on a quiet machine), for each clip of the given actors: decode to
16 kHz, then (a) trim + features as before the gate, (b) ml.segment.plan + featurise (speech
gate, then the same trim + features). Prints the median ms per clip of each and of the gate
alone (speech_regions with the gate's early stop), and the total over the clips.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ml import dataset, features, segment, vad  # noqa: E402
from ml.audio import decode, trim_and_normalise  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "ravdess"))
    parser.add_argument("--actors", default="1-4")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    first, last = map(int, args.actors.split("-"))
    clips = [c.path for c in dataset.scan(args.data) if first <= c.actor <= last]
    signals = [decode(p).samples for p in clips]
    config = features.get_config("default")
    vad.load_models()
    features.extract(trim_and_normalise(signals[0]), config)   # warm-up
    steps = {
        "trim + features (no gate)": lambda y: features.extract(trim_and_normalise(y), config),
        "gate alone (speech_regions, early stop)":
            lambda y: vad.speech_regions(y, enough_s=segment.GATE_S),
        "plan + featurise (gate + trim + features)":
            lambda y: segment.featurise(segment.plan(y), config),
    }
    print(f"{len(clips)} clips, median of {args.rounds} rounds, one process")
    for name, step in steps.items():
        rounds = []
        for _ in range(args.rounds):
            ms = []
            for y in signals:
                started = time.perf_counter()
                step(y)
                ms.append(1000 * (time.perf_counter() - started))
            rounds.append(ms)
        per_clip = np.median(np.array(rounds), axis=0)
        print(f"  {name:<44} median {np.median(per_clip):6.2f} ms/clip, "
              f"p90 {np.percentile(per_clip, 90):6.2f}, total {per_clip.sum() / 1000:5.2f} s")


if __name__ == "__main__":
    main()
