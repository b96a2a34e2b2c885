"""Memory benchmark: peak resident memory (VmHWM) of a gunicorn worker, started exactly as the
Procfile does, while it answers one upload: a 10-minute speech recording, and each decoding bomb
of issue #12 (plus the largest inputs the limits still accept). Each input gets a fresh server
with one worker, so the peak is that input's alone; "idle" is the worker after start and
warm-up. Target: <= 300 MiB per worker, whatever the input.

    python bench/memory.py                 # prints a Markdown table; JSON to bench/results/
    python bench/memory.py --only speech-600s-wav

Bombs are generated once into .cache/bench/bombs (the 600 s ones take a minute). Traffic stays
on 127.0.0.1.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bombs, load  # noqa: E402
from bench.run import post_wav, worker_peak_rss_mib  # noqa: E402

CACHE = ROOT / ".cache" / "bench" / "bombs"
TARGET_MIB = 300


def speech_recording(path, seconds, rate, channels, fmt, subtype):
    """seconds of real speech (RAVDESS clips in a row) at rate with channels."""
    clips = sorted(load.DATA_DIR.glob("Actor_*/*.wav"))[:60]
    y = np.concatenate([sf.read(c, dtype="float32")[0] for c in clips])
    import soxr
    y = soxr.resample(y, 16000, rate) if rate != 16000 else y
    y = np.tile(y, int(np.ceil(seconds * rate / len(y))))[: int(seconds * rate)]
    with sf.SoundFile(str(path), "w", rate, channels, format=fmt, subtype=subtype) as f:
        for start in range(0, len(y), rate):   # a second at a time (libvorbis dislikes more)
            block = y[start:start + rate]
            f.write(np.stack([block * (1 - 0.1 * c) for c in range(channels)], axis=1))
    return Path(path)


# name: (what, maker(path)); the file is made once and cached.
INPUTS = {
    "speech-600s-wav": ("599 s speech, WAV 16 kHz mono 16-bit (18 MiB)",
                        lambda p: speech_recording(p, 599, 16000, 1, "WAV", "PCM_16")),
    "speech-600s-ogg-48k-stereo": ("599 s speech, Ogg Vorbis 48 kHz stereo",
                                   lambda p: speech_recording(p, 599, 48000, 2, "OGG", "VORBIS")),
    "flac-8ch-384k-120s": ("bomb: FLAC 8 ch 384 kHz 120 s silence",
                           lambda p: bombs.flac_bomb(p, 120)),
    "flac-8ch-384k-600s": ("bomb: FLAC 8 ch 384 kHz 600 s silence",
                           lambda p: bombs.flac_bomb(p, 600)),
    "vorbis-32ch-192k-30s": ("bomb: Ogg Vorbis 32 ch 192 kHz 30 s silence",
                             lambda p: bombs.vorbis_bomb(p, 30)),
    "matroska-flac-8ch-384k-600s": ("bomb: FLAC in Matroska (PyAV) 8 ch 384 kHz 600 s",
                                    lambda p: bombs.matroska_flac_bomb(p, 600)),
    "flac-8ch-192k-75s": ("largest accepted: FLAC 8 ch 192 kHz 75 s (the work limit)",
                          lambda p: bombs.soundfile_bomb(p, 75, 192000, 8)),
    "matroska-flac-2ch-192k-300s": ("largest accepted via PyAV: Matroska FLAC 2 ch 192 kHz 300 s",
                                    lambda p: bombs.matroska_flac_bomb(p, 300, 192000, 2)),
}


def input_file(name):
    """The cached file of one input (made on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}.bin"
    if not path.exists():
        print(f"  generating {name} ...", flush=True)
        tmp = CACHE / f"{name}.tmp"
        INPUTS[name][1](tmp)
        tmp.rename(path)
    return path


def measure(name, tmp):
    """(status, seconds, idle MiB, peak MiB) of one fresh one-worker server answering name."""
    path = input_file(name)
    folder = tmp / name
    env = load.production_env(folder, load.free_port(), WEB_CONCURRENCY=1, SER_RATE_API="off")
    load.prepare(env)
    with load.serve(env, folder / "gunicorn.log") as (url, proc):
        idle = max(worker_peak_rss_mib(proc.pid))
        started = time.monotonic()
        try:
            status = post_wav(url + "/api/predict", path, timeout=300)
        except Exception as exc:  # an HTTP error status is an answer too
            status = getattr(exc, "code", repr(exc))
        seconds = time.monotonic() - started
        peak = max(worker_peak_rss_mib(proc.pid))
    return {"input": name, "what": INPUTS[name][0], "bytes": path.stat().st_size,
            "status": status, "seconds": round(seconds, 2), "idle_mib": round(idle, 1),
            "peak_mib": round(peak, 1)}


def table(rows):
    lines = ["| input | file | answer | time s | worker idle MiB | worker peak MiB |",
             "|---|---:|---|---:|---:|---:|"]
    for r in rows:
        mib = r["bytes"] / 2**20
        size = f"{mib:.1f} MiB" if mib > 1 else f"{r['bytes'] / 1024:.0f} kB"
        lines.append(f"| {r['what']} | {size} | {r['status']} | {r['seconds']} | "
                     f"{r['idle_mib']} | {r['peak_mib']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(INPUTS), help="inputs to measure")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "memory.json"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ser-memory-") as tmp:
        for name in args.only or INPUTS:
            rows.append(measure(name, Path(tmp)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2))
    print("\n" + table(rows))
    worst = max(r["peak_mib"] for r in rows)
    print(f"\nworst worker peak: {worst} MiB (target <= {TARGET_MIB} MiB)")
    return 0 if worst <= TARGET_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
