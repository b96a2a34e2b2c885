"""Compare speech detectors on the generated non-speech corpus (ml/nonspeech.py) and on every
shared RAVDESS clip, clean and after the channel degradations of `evaluate --channel-test`.

    python bench/vad.py [--data ../shared/data/ravdess] [--jobs 2] [--gate 0.3]

Detectors: the energy detector alone, WebRTC VAD (webrtcvad-wheels, modes 1 and 3), Silero VAD
(16 kHz model) over the whole clip, and the project's gate (ml/vad.py: Silero only inside the
energy detector's sound regions, the 8 kHz model's second opinion where the 16 kHz one finds too
little, then the 16 kHz model on the sound slowed and lowered in pitch (screams), stopping once
--gate seconds of speech were found). A clip is accepted as speech when the detector finds at
least --gate seconds. Prints a Markdown table (non-speech clips accepted, speech clips accepted
per channel, median ms per clip on one core) and writes bench/results/vad.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from joblib import Parallel, delayed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ml import augment, channels, dataset, nonspeech, segment, vad  # noqa: E402
from ml.audio import SAMPLE_RATE, decode, to_mono_16k  # noqa: E402

CONDITIONS = ["clean"] + list(channels.TEST_CHANNELS)


def webrtc_seconds(y, mode):
    import webrtcvad
    detector = webrtcvad.Vad(mode)
    frame = int(0.03 * SAMPLE_RATE)
    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    hits = sum(detector.is_speech(pcm[i:i + frame].tobytes(), SAMPLE_RATE)
               for i in range(0, len(pcm) - frame + 1, frame))
    return hits * 0.03


def detectors(gate_s):
    """name -> function(16 kHz samples) -> seconds of speech found."""
    return {
        "energy only": lambda y: vad.speech_seconds(vad.sound_regions(y)),
        "WebRTC mode 1": lambda y: webrtc_seconds(y, 1),
        "WebRTC mode 3": lambda y: webrtc_seconds(y, 3),
        "Silero 16 kHz, whole clip": lambda y: vad.speech_seconds(
            vad._runs(vad.speech_chunks(y)[0], vad.CHUNK_S, len(y) / SAMPLE_RATE)),
        "energy + Silero (ml/vad.py gate)":
            lambda y: vad.speech_seconds(vad.speech_regions(y, enough_s=gate_s)),
    }


def measure(y, gate_s):
    """{detector: (seconds of speech, ms)} for one clip (single-threaded)."""
    out = {}
    for name, detect in detectors(gate_s).items():
        started = time.perf_counter()
        seconds = detect(y)
        out[name] = (float(seconds), 1000 * (time.perf_counter() - started))
    return out


def speech_clip(path, condition, digest, gate_s):
    y = decode(path).samples
    if condition != "clean":
        y, rate = augment.apply(condition, y, SAMPLE_RATE, digest)
        y = to_mono_16k(y, rate)
    return measure(y, gate_s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "ravdess"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--gate", type=float, default=segment.GATE_S,
                        help="seconds of speech to accept (default: the app's gate)")
    parser.add_argument("--limit", type=int, default=None, help="speech clips per condition")
    args = parser.parse_args(argv)

    sounds = nonspeech.corpus()
    noise = Parallel(n_jobs=args.jobs)(delayed(measure)(y, args.gate) for y in sounds.values())
    paths = [c.path for c in dataset.scan(args.data)][:args.limit]
    digests = augment.content_digests(paths)
    speech = {cond: Parallel(n_jobs=args.jobs, batch_size=16)(
        delayed(speech_clip)(p, cond, d, args.gate) for p, d in zip(paths, digests))
        for cond in CONDITIONS}

    names = list(detectors(args.gate))
    report = {"gate_s": args.gate, "nonspeech": {}, "speech": {}, "ms": {}}
    rows = []
    for name in names:
        fooled = [k for k, r in zip(sounds, noise) if r[name][0] >= args.gate]
        accepted = {c: float(np.mean([r[name][0] >= args.gate for r in speech[c]]))
                    for c in CONDITIONS}
        ms = float(np.median([r[name][1] for r in speech["clean"]]))
        report["nonspeech"][name] = {"accepted": fooled, "seconds": {
            k: r[name][0] for k, r in zip(sounds, noise)}}
        report["speech"][name] = accepted
        report["ms"][name] = ms
        rows.append(f"| {name} | {len(fooled)} of {len(sounds)} | "
                    + " | ".join(f"{100 * accepted[c]:.1f}%" for c in CONDITIONS)
                    + f" | {ms:.2f} |")
        if fooled:
            rows.append(f"|   accepted: {', '.join(fooled)} |" + " |" * (len(CONDITIONS) + 1))
    clean = [r["energy + Silero (ml/vad.py gate)"][0] for r in speech["clean"]]
    report["gate_speech_s_min"] = float(np.min(clean))
    print(f"Gate: at least {args.gate} s of speech; {len(paths)} RAVDESS clips per condition, "
          f"{len(sounds)} non-speech sounds.\n")
    print("| detector | non-speech accepted | " + " | ".join(
        f"speech accepted, {c}" for c in CONDITIONS) + " | ms per clip (median, clean) |")
    print("|---|---|" + "---|" * len(CONDITIONS) + "---|")
    print("\n".join(rows))
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "vad.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
