"""Load benchmark: start gunicorn on loopback exactly as the Procfile does (production settings,
release command first) and drive POST /api/predict with wrk — N concurrent clients each posting
a 4 s WAV for a fixed time. Prints requests/s, p50/p95/p99 latency and errors per run.

    python bench/load.py                      # 8 then 16 clients, 60 s each
    python bench/load.py --clients 8 --duration 10
    python bench/load.py --clients 8 --bomb-clients 4      # also: 4 clients looping a bomb

With --bomb-clients N each run is done three times: clean, with N more clients posting a
decoding bomb (bench/memory.py's inputs, default the 38 kB 32-channel Vorbis file) in a loop at
the same time, clean again; the valid clients' rate with bombs is compared with the mean of the
two clean runs around it (the machine's other load drifts).

Needs wrk (Debian package `wrk`). Traffic stays on 127.0.0.1. Results also go to
bench/results/load.json. Exit status 1 if any request failed.
"""
import argparse
import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data" / "ravdess"
CLIP_S = 4.0

# wrk script: multipart POST of the WAV named by SER_BENCH_WAV; done() prints one JSON line.
WRK_SCRIPT = r'''
local f = assert(io.open(os.getenv("SER_BENCH_WAV"), "rb"))
local data = f:read("*all")
f:close()
local boundary = "----ser-bench-boundary-7d1c"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["X-Forwarded-For"] = os.getenv("SER_BENCH_CLIENT")
wrk.body = "--" .. boundary .. "\r\n"
  .. "Content-Disposition: form-data; name=\"file\"; filename=\"speech.wav\"\r\n"
  .. "Content-Type: audio/wav\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\": %d, \"duration_s\": %.3f, \"p50_ms\": %.1f, \"p95_ms\": %.1f, "
    .. "\"p99_ms\": %.1f, \"max_ms\": %.1f, \"connect_errors\": %d, \"read_errors\": %d, "
    .. "\"write_errors\": %d, \"status_errors\": %d, \"timeouts\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.connect, e.read, e.write, e.status, e.timeout))
end
'''


def free_port():
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile(kind):
    """The command of one Procfile process type (e.g. "web", "release")."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise KeyError(f"Procfile has no {kind!r} process")


# Variables of the app's configuration: never inherited from the caller's environment.
CONFIG_VARIABLES = ("DJANGO_", "DATABASE_URL", "SER_", "DEBUG", "SECURE_", "SECRET_KEY",
                    "ALLOWED_HOSTS", "CSRF_", "MEDIA_ROOT", "STATIC_ROOT", "UPLOAD_TEMP_DIR",
                    "WEB_CONCURRENCY", "GUNICORN_")


# A load test measures throughput from one address: the API's per-client rate limit is off.
ONE_ADDRESS = {"SER_RATE_API": "off", "SER_PROXY_HOPS": 1}

def production_env(folder, port, **overrides):
    """Environment of a production deploy on loopback: DEBUG off, a fresh SECRET_KEY, SQLite,
    static/media/upload-temp folders under folder. Keyword arguments override variables."""
    folder = Path(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_VARIABLES)}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{port}",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", STATIC_ROOT=str(folder / "static"),
        MEDIA_ROOT=str(folder / "media"), UPLOAD_TEMP_DIR=str(folder / "uploads"),
        HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1",
        # the Procfile's `python` and `gunicorn` are this interpreter's (e.g. .venv/bin)
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    (folder / "uploads").mkdir(parents=True, exist_ok=True)
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def _run_in_shell(command, env, **kwargs):
    # A PaaS runs Procfile commands through a shell; `exec` keeps gunicorn as our child (a
    # command list joined by && runs in the shell).
    prefix = "" if "&&" in command else "exec "
    return subprocess.Popen(["sh", "-c", prefix + command], cwd=ROOT, env=env, **kwargs)


def prepare(env):
    """Run the Procfile's release command and collectstatic (what the platform's build does)."""
    for command in (procfile("release"), "python manage.py collectstatic --noinput -v0"):
        proc = _run_in_shell(command, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        out, _ = proc.communicate(timeout=300)
        if proc.returncode:
            raise RuntimeError(f"`{command}` failed ({proc.returncode}):\n{out}")


def get(url, headers=None, timeout=10):
    """(status, headers, body) of a GET; HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Makes urllib return redirects instead of following them."""

    def redirect_request(self, *args, **kwargs):
        return None


def wait_healthy(url, proc, timeout=120):
    """Wait until GET url/healthz answers 200; raise if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        with contextlib.suppress(OSError):
            if get(url + "/healthz", timeout=5)[0] == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{url}/healthz did not answer 200 within {timeout} s")


@contextlib.contextmanager
def serve(env, log_path, timeout=120):
    """Start the Procfile's web process with env, wait until healthy, yield (url, process);
    on exit send SIGTERM (graceful shutdown) and wait for it to end."""
    url = f"http://127.0.0.1:{env['PORT']}"
    with open(log_path, "w") as log:
        proc = _run_in_shell(procfile("web"), env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            wait_healthy(url, proc, timeout)
            yield url, proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def make_wav(path, seconds=CLIP_S, data_dir=DATA_DIR):
    """Write seconds of real speech (consecutive RAVDESS clips of one actor) as 16-bit WAV."""
    clips = sorted((Path(data_dir)).glob("Actor_*/*.wav"))[:8]
    if not clips:
        raise FileNotFoundError(f"no RAVDESS clips under {data_dir}")
    rate, parts, total = None, [], 0
    for clip in clips:
        y, sr = sf.read(clip, dtype="float32", always_2d=True)
        rate = rate or sr
        if sr != rate:
            continue
        parts.append(y[:, 0])
        total += len(y)
        if total >= seconds * rate:
            break
    y = np.concatenate(parts)[: int(seconds * rate)]
    sf.write(path, y, rate, subtype="PCM_16")
    return path


VALID_CLIENT, BOMB_CLIENT = "198.51.100.1", "203.0.113.66"   # their X-Forwarded-For


def run_wrk(url, wav, clients, duration_s, script_path, address=VALID_CLIENT):
    """Run wrk against url and return its summary dict (requests/s, percentiles, errors); the
    requests say they come from address (the server trusts one proxy hop)."""
    cmd = ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{duration_s}s",
           "--timeout", "60s", "-s", str(script_path), url]
    out = subprocess.run(cmd, env={**os.environ, "SER_BENCH_WAV": str(wav),
                                   "SER_BENCH_CLIENT": address}, check=True,
                         capture_output=True, text=True, timeout=duration_s + 120).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    result = json.loads(line[len("WRK_JSON "):])
    result["clients"] = clients
    result["requests_per_s"] = result["requests"] / result["duration_s"]
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "status_errors", "timeouts"))
    return result


def table(results):
    """The results as a Markdown table."""
    rows = ["| clients | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {r['clients']}{r.get('label', '')} | {r['requests']} | "
             f"{r['requests_per_s']:.2f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
             f"{r['p99_ms']:.0f} | {r['errors']} |" for r in results]
    return "\n".join(rows)


def run_with_bombs(api, wav, clients, duration_s, script, bomb, bomb_clients):
    """Valid clients' wrk summary while bomb_clients more post bomb in a loop from another
    address (its summary is under "bombs": their answers are 4xx, counted as status errors by
    wrk)."""
    bombs_result = {}
    thread = threading.Thread(target=lambda: bombs_result.update(
        run_wrk(api, bomb, bomb_clients, duration_s + 2, script, BOMB_CLIENT)))
    thread.start()
    time.sleep(1.0)   # the bombs are flowing before the valid clients start
    result = run_wrk(api, wav, clients, duration_s, script)
    thread.join()
    result["label"] = f" + {bomb_clients} bomb"
    result["bombs"] = bombs_result
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--wav", help="audio to post (default: 4 s of RAVDESS speech)")
    parser.add_argument("--workers", help="WEB_CONCURRENCY for gunicorn (default: its config)")
    parser.add_argument("--threads", help="GUNICORN_THREADS (default: its config)")
    parser.add_argument("--database-url", help="DATABASE_URL (default: a fresh SQLite file)")
    parser.add_argument("--bomb-clients", type=int, default=0,
                        help="also run each load with this many clients posting a bomb")
    parser.add_argument("--bomb", default="vorbis-32ch-192k-30s",
                        help="which bench/memory.py input the bomb clients post")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = parser.parse_args(argv)
    bomb = None
    if args.bomb_clients:
        sys.path.insert(0, str(ROOT))
        from bench.memory import input_file
        bomb = input_file(args.bomb)

    with tempfile.TemporaryDirectory(prefix="ser-load-") as tmp:
        tmp = Path(tmp)
        overrides = {k: v for k, v in {"WEB_CONCURRENCY": args.workers,
                                       "GUNICORN_THREADS": args.threads,
                                       "DATABASE_URL": args.database_url}.items() if v}
        env = production_env(tmp, free_port(), **ONE_ADDRESS, **overrides)
        wav = Path(args.wav) if args.wav else make_wav(tmp / "speech-4s.wav")
        script = tmp / "post.lua"
        script.write_text(WRK_SCRIPT)
        print(f"Preparing (release command, collectstatic) in {tmp} ...", flush=True)
        prepare(env)
        print(f"Starting: {procfile('web')}  (PORT={env['PORT']})", flush=True)
        results = []
        with serve(env, tmp / "gunicorn.log") as (url, _):
            api = url + "/api/predict"
            run_wrk(api, wav, 1, 3, script)   # warm every worker's caches before measuring
            for clients in args.clients:
                print(f"wrk: {clients} clients x {args.duration} s -> POST {api}", flush=True)
                results.append(run_wrk(api, wav, clients, args.duration, script))
                print(table(results[-1:]).splitlines()[-1], flush=True)
                if bomb:
                    print(f"wrk: the same with {args.bomb_clients} clients posting {bomb.name}, "
                          f"then clean again", flush=True)
                    with_bombs = run_with_bombs(api, wav, clients, args.duration, script, bomb,
                                                args.bomb_clients)
                    results += [with_bombs, run_wrk(api, wav, clients, args.duration, script)]
                    clean = (results[-3]["requests_per_s"] + results[-1]["requests_per_s"]) / 2
                    with_bombs["fraction_of_clean"] = with_bombs["requests_per_s"] / clean
                    print("\n".join(table(results[-2:]).splitlines()[-2:]) + "\n"
                          f"({100 * with_bombs['fraction_of_clean']:.0f}% of the clean runs "
                          f"before and after; {with_bombs['bombs']['requests']} bomb requests "
                          f"answered)", flush=True)
        log = (tmp / "gunicorn.log").read_text()
        server_errors = log.count('" 500 ') + log.count("Traceback")
        leftovers = os.listdir(tmp / "uploads")

    report = {"command": "python bench/load.py " + shlex.join(argv or sys.argv[1:]),
              "wav_seconds": CLIP_S if not args.wav else None, "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "server_errors_in_log": server_errors,
              "temp_files_left": len(leftovers), "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print("\n" + table(results))
    print(f"\nserver errors in log: {server_errors}, upload temp files left: {len(leftovers)}, "
          f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    failed = server_errors or leftovers or any(r["errors"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
