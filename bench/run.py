"""Performance benchmark against the tutorial pipeline, in one run on the same files:

    python bench/run.py            # prints a Markdown table; also bench/results/run.json

Rows (medians of several repetitions unless stated): feature extraction per 3-4 s clip on one
core, `predict --json` over 240 clips (whole process), `train_model` on the whole dataset with
2 workers from an empty and then a warm feature cache, in-process prediction of one 4 s clip,
HTTP POST /api/predict under gunicorn with 8 clients (bench/load.py's machinery: the Procfile's
web process with production settings, driven by wrk), boot to the first answered prediction and
peak RSS per worker. The baseline is ../shared/anchors/seed_pipeline.py, run as shipped; its
model is trained once with `seed_pipeline.py train` and cached in .cache/bench/. Both sides of
the one-core rows run in child processes pinned to the same core. Needs wrk for the HTTP row.
Timings are only meaningful on an otherwise idle machine: the load average is printed with them.
"""
import argparse
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "anchors" / "seed_pipeline.py"
DATA = ROOT.parent / "shared" / "data" / "ravdess"
CACHE = ROOT / ".cache" / "bench"
PREDICT_ACTORS = ("Actor_01", "Actor_02", "Actor_03", "Actor_04")  # 4 x 60 = 240 clips

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- child processes (one core)

def child(kind, core, files, wav, model, repeat):
    """Run in a fresh process pinned to `core`; print JSON with per-clip and per-call times."""
    os.sched_setaffinity(0, {core})  # before numpy/BLAS start their threads
    import numpy as np
    if kind == "seed":
        import importlib.util
        import pickle
        spec = importlib.util.spec_from_file_location("seed_pipeline", SEED)
        seed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seed)
        extract_file = seed.extract_features
        with open(model, "rb") as f:
            clf = pickle.load(f)

        def predict_file(path):
            return clf.predict_proba(seed.extract_features(path)[None, :])
    else:
        from dataclasses import replace

        from ml import Predictor, load_audio
        from ml.features import FEATURE_SETS, extract
        config = replace(FEATURE_SETS["default"], version=1) if kind == "ours-v1" else "default"

        def extract_file(path):
            return extract(load_audio(path).samples, config)
        predictor = Predictor.from_path()
        predictor.warm_up()
        predict_file = predictor.predict_file
    extract_file(files[0])
    per_clip = []
    for path in files:
        started = time.perf_counter()
        extract_file(path)
        per_clip.append(1000 * (time.perf_counter() - started))
    calls = []
    if kind != "ours-v1":
        predict_file(wav)
        for _ in range(repeat):
            started = time.perf_counter()
            predict_file(wav)
            calls.append(1000 * (time.perf_counter() - started))
    print(json.dumps({"extract_ms": per_clip, "predict_ms": calls,
                      "blas_threads": _blas_threads(np)}))


def _blas_threads(np):
    from threadpoolctl import threadpool_info
    return max((i["num_threads"] for i in threadpool_info()), default=None)


def run_child(kind, core, files, wav, model, repeat=30):
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--core", str(core),
                          "--wav", str(wav), "--model", str(model), "--repeat", str(repeat),
                          "--files", *map(str, files)],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- helpers

def timed(cmd, env=None, timeout=None, stdout=subprocess.DEVNULL):
    """(wall seconds, peak RSS MiB, exit status) of a whole command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = None if timeout is None else started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if deadline and time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)  # with its worker processes
            proc.wait()
            return None, None, "timeout"
        time.sleep(0.02)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode


def cli_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SER_"))}
    env.update(SECRET_KEY=secrets.token_urlsafe(40), PYTHONUNBUFFERED="1")
    return env


def seed_model(data):
    """The baseline's model (trained once, cached) and how long `seed_pipeline.py train` took."""
    CACHE.mkdir(parents=True, exist_ok=True)
    model, info = CACHE / "seed_model.pkl", CACHE / "seed_train.json"
    if not (model.exists() and info.exists()):
        print(f"Training the baseline model once (cached in {CACHE}) ...", flush=True)
        tmp = CACHE / "seed_model.tmp.pkl"
        seconds, _, status = timed([sys.executable, str(SEED), "train", str(data), str(tmp)])
        if status != 0:
            raise RuntimeError("seed_pipeline.py train failed")
        tmp.replace(model)
        info.write_text(json.dumps({"seconds": seconds, "cores": len(os.sched_getaffinity(0)),
                                    "data": str(data)}))
    return model, json.loads(info.read_text())


def post_wav(url, wav, timeout=60):
    """POST wav as multipart field `file`; returns the HTTP status."""
    boundary = "----ser-bench-" + secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"speech.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode() \
        + Path(wav).read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        return response.status


def worker_peak_rss_mib(master_pid):
    """Peak resident memory (VmHWM) of each direct child of master_pid, in MiB."""
    peaks = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if ppid and hwm and int(ppid.group(1)) == master_pid:
            peaks.append(int(hwm.group(1)) / 1024)
    return peaks


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- the rows

def feature_rows(files, wav, model, rounds, core):
    got = {"ours": {"extract_ms": [], "predict_ms": []}, "ours-v1": {"extract_ms": []},
           "seed": {"extract_ms": [], "predict_ms": []}}
    for r in range(rounds):  # alternate, so both sides see the same machine load
        for kind in ("seed", "ours", "ours-v1"):
            print(f"  one-core round {r + 1}/{rounds}: {kind}", flush=True)
            result = run_child(kind, core, files, wav, model)
            for key in got[kind]:
                got[kind][key] += result[key]
    return {k: {key: median(v) for key, v in d.items()} for k, d in got.items()}


def predict_rows(data, model, reps):
    folders = [str(data / a) for a in PREDICT_ACTORS]
    files = sorted(str(p) for a in PREDICT_ACTORS for p in (data / a).glob("*.wav"))
    ours, seed = [], []
    for r in range(reps):
        print(f"  predict over {len(files)} clips, round {r + 1}/{reps}", flush=True)
        seed.append(timed([sys.executable, str(SEED), "predict", str(model), *files])[0])
        with tempfile.TemporaryFile("w+") as out:
            seconds, _, status = timed([sys.executable, "manage.py", "predict", *folders,
                                        "--json"], env=cli_env(), stdout=out)
            out.seek(0)
            lines = sum(1 for _ in out)
        if status != 0 or lines != len(files):
            raise RuntimeError(f"manage.py predict failed (status {status}, {lines} lines)")
        ours.append(seconds)
    return {"clips": len(files), "ours_s": median(ours), "seed_s": median(seed)}


def train_rows(data, cold_limit, warm_limit):
    with tempfile.TemporaryDirectory(prefix="ser-bench-train-") as tmp:
        env = cli_env()
        env["SER_FEATURE_CACHE"] = str(Path(tmp) / "features")
        cmd = [sys.executable, "manage.py", "train_model", "--data", str(data),
               "--out", str(Path(tmp) / "model.pkl"), "--jobs", "2"]
        print("  train_model, empty feature cache ...", flush=True)
        cold = timed(cmd, env=env, timeout=cold_limit)
        warm = (None, None, "skipped")
        if cold[2] == 0:
            print("  train_model, warm feature cache ...", flush=True)
            warm = timed(cmd, env=env, timeout=warm_limit)
    return {"cold_s": cold[0], "cold_status": cold[2], "cold_limit_s": cold_limit,
            "warm_s": warm[0], "warm_status": warm[2], "warm_limit_s": warm_limit}


def http_rows(wav, model, clients, duration):
    import load  # bench/load.py (production #6): gunicorn exactly as deployed, wrk driver
    with tempfile.TemporaryDirectory(prefix="ser-bench-http-") as tmp:
        tmp = Path(tmp)
        env = load.production_env(tmp, load.free_port(), **load.ONE_ADDRESS)
        script = tmp / "post.lua"
        script.write_text(load.WRK_SCRIPT)
        load.prepare(env)
        started = time.perf_counter()
        with load.serve(env, tmp / "gunicorn.log") as (url, proc):
            status = post_wav(url + "/api/predict", wav)
            boot_s = time.perf_counter() - started
            if status != 200:
                raise RuntimeError(f"first POST /api/predict answered {status}")
            print(f"  wrk: {clients} clients x {duration} s", flush=True)
            result = load.run_wrk(url + "/api/predict", wav, clients, duration, script)
            rss = worker_peak_rss_mib(proc.pid)
    seed_boot = timed([sys.executable, str(SEED), "predict", str(model), str(wav)])
    return {"boot_s": boot_s, "wrk": result, "worker_peak_rss_mib": rss,
            "seed_first_prediction_s": seed_boot[0], "seed_peak_rss_mib": seed_boot[1]}


# ---------------------------------------------------------------- report

def fmt(x, unit, digits=1):
    return "-" if x is None else f"{x:.{digits}f} {unit}"


def verdict(ok):
    return "yes" if ok else "NO"


def table(r):
    f, p, t, h = r.get("features"), r.get("predict"), r.get("train"), r.get("http")
    lines = ["| measure | this project | baseline (seed_pipeline.py) | result | target | met |",
             "|---|---:|---:|---:|---|---|"]
    ratio_rows = []
    if f:
        ratio_rows += [
            ("feature extraction per clip, 1 core (default set)", f["ours"]["extract_ms"],
             f["seed"]["extract_ms"], "ms", 2),
            ("  same, feature version 1 (371 values, before #3's descriptors)",
             f["ours-v1"]["extract_ms"], f["seed"]["extract_ms"], "ms", 2)]
    if p:
        ratio_rows.append((f"`predict --json` over {p['clips']} clips, whole process",
                           p["ours_s"], p["seed_s"], "s", 2))
    for name, ours, base, unit, digits in ratio_rows:
        ratio = base / ours
        lines.append(f"| {name} | {fmt(ours, unit, digits)} | {fmt(base, unit, digits)} | "
                     f"{ratio:.1f}x faster | >= 5x | {verdict(ratio >= 5)} |")
    if t:
        seed_train = r["seed_train"]
        for kind, limit in (("cold", 60), ("warm", 10)):
            secs, status = t[f"{kind}_s"], t[f"{kind}_status"]
            shown = fmt(secs, "s") if status == 0 else \
                f"> {t[f'{kind}_limit_s']} s (stopped)" if status == "timeout" else str(status)
            base = (f"{seed_train['seconds']:.1f} s (1 run, cached)" if kind == "cold" else "-")
            lines.append(f"| `train_model` 1200 clips, 2 workers, {kind} feature cache | {shown} "
                         f"| {base} | | <= {limit} s | "
                         f"{verdict(status == 0 and secs <= limit)} |")
    if f:
        lines.append(f"| in-process prediction of one 4 s clip (1 core) | "
                     f"{fmt(f['ours']['predict_ms'], 'ms', 2)} | "
                     f"{fmt(f['seed']['predict_ms'], 'ms', 2)} | | <= 15 ms | "
                     f"{verdict(f['ours']['predict_ms'] <= 15)} |")
    if h:
        w, rss = h["wrk"], h["worker_peak_rss_mib"]
        lines += [
            f"| HTTP POST /api/predict, 4 s WAV, gunicorn, {w['clients']} clients | "
            f"p50 {w['p50_ms']:.0f} ms, p99 {w['p99_ms']:.0f} ms ({w['requests_per_s']:.1f} "
            f"req/s, {w['errors']} errors) | no server | | p50 <= 50, p99 <= 150 ms | "
            f"{verdict(w['p50_ms'] <= 50 and w['p99_ms'] <= 150 and not w['errors'])} |",
            f"| boot to first answered prediction | {fmt(h['boot_s'], 's', 2)} | "
            f"{fmt(h['seed_first_prediction_s'], 's', 2)} (process start to first JSON line) | "
            f"| <= 3 s | {verdict(h['boot_s'] <= 3)} |",
            f"| peak RSS per worker | {fmt(max(rss or [0]), 'MiB', 0)} ({len(rss)} workers) | "
            f"{fmt(h['seed_peak_rss_mib'], 'MiB', 0)} (predict process) | | <= 250 MiB | "
            f"{verdict(bool(rss) and max(rss) <= 250)} |"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of the timed rows")
    parser.add_argument("--clips", type=int, default=40, help="clips in the one-core rows")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk load")
    parser.add_argument("--cold-limit", type=int, default=240,
                        help="stop the cold train_model run after this many seconds")
    parser.add_argument("--warm-limit", type=int, default=90)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=("features", "predict", "train", "http"),
                        help="leave out these rows (for quick checks; the full run has all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "run.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--wav", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=30, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.core, args.files, args.wav, args.model, args.repeat)

    import load
    began = time.perf_counter()
    cores = sorted(os.sched_getaffinity(0))
    report = {"command": "python bench/run.py " + " ".join(argv or sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "usable_cores": len(cores),
                          "cpu": platform.processor() or platform.machine(),
                          "python": platform.python_version(),
                          "load_average_before": os.getloadavg()}}
    print(f"Machine: {len(cores)} usable cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    model, report["seed_train"] = seed_model(args.data)
    all_clips = sorted(args.data.glob("Actor_*/*.wav"))
    files = all_clips[:: max(1, len(all_clips) // args.clips)][:args.clips]
    with tempfile.TemporaryDirectory(prefix="ser-bench-") as tmp:
        wav = load.make_wav(Path(tmp) / "speech-4s.wav", data_dir=args.data)
        if "features" not in args.skip:
            print("One-core rows (feature extraction, in-process prediction) ...", flush=True)
            report["features"] = feature_rows(files, wav, model, args.rounds, cores[-1])
        if "predict" not in args.skip:
            print("Whole-process predict rows ...", flush=True)
            report["predict"] = predict_rows(args.data, model, args.rounds)
        if "train" not in args.skip:
            print("train_model rows ...", flush=True)
            report["train"] = train_rows(args.data, args.cold_limit, args.warm_limit)
        if "http" not in args.skip:
            print("HTTP rows (gunicorn via bench/load.py) ...", flush=True)
            report["http"] = http_rows(wav, model, args.clients, args.duration)
    report["machine"]["load_average_after"] = os.getloadavg()
    report["seconds"] = time.perf_counter() - began
    text = table(report)
    report["table"] = text
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    m = report["machine"]
    print(f"\n{text}\n\nMachine: {m['usable_cores']} cores ({m['cpu']}), Python {m['python']}; "
          f"load average before {m['load_average_before'][0]:.1f}, after "
          f"{m['load_average_after'][0]:.1f}. Benchmark took {report['seconds']:.0f} s. "
          f"Details: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
