"""gunicorn settings (Procfile: `gunicorn --config gunicorn.conf.py sersite.wsgi`), from env.

PORT / HOST: where to listen (the PaaS sets PORT). WEB_CONCURRENCY: worker processes (default two
per usable core: a request spends part of its time on the socket, the database and the GIL, and
the preloaded workers share the model's memory; on 2 cores, 4 workers answered 8 concurrent
clients at ~215 requests/s with a 34 ms median against ~160/s and 56 ms with 2),
GUNICORN_THREADS: threads per worker (default 2: a thread can wait on a slow client's socket while
the other analyses; the analyses themselves are limited to SER_ANALYSES_PER_WORKER at once per
process, so more threads only queue more requests behind one worker's analysis while other
workers idle: with 4 threads the p99 latency under load was 215-274 ms, with 2 it is 86-142 ms),
GUNICORN_TIMEOUT: seconds a worker's main loop may go silent before the worker is replaced
(default 120; it does not limit a request: requests are bounded by sersite.deadlines and
SER_ANALYSIS_TIMEOUT_S).
The worker class is gunicorn's gthread with a deadline on receiving each request
(sersite.workers.DeadlineWorker): slow clients are disconnected, not waited for.
SIGTERM (what a PaaS sends on deploy/scale-down) is a graceful shutdown: workers stop accepting,
finish their requests for up to GUNICORN_GRACEFUL_TIMEOUT seconds (default 25, under the usual
30 s before SIGKILL), then exit. The app (Django and the model, sersite/wsgi.py) is loaded once,
in the master, before the workers are forked (preload_app): workers share the model's memory and
a replacement worker (max_requests, a crash) answers within milliseconds instead of after a
second of loading; a model that cannot be loaded stops the master (exit status 3) before any
worker starts.
"""
import gc
import os


def _int(name, default):
    return int(os.environ.get(name, default))


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = _int("WEB_CONCURRENCY", 2 * (_cores or 1))
worker_class = "sersite.workers.DeadlineWorker"
preload_app = True
threads = _int("GUNICORN_THREADS", 2)
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = 5
# Replace each worker after this many requests (jittered so they do not all restart together): a
# safety net against slow growth. Every replacement drops the old worker's keep-alive connections
# and costs its clients a reconnect, a visible tail under load (p99 95-141 ms with 1000, 85-88 ms
# without); large buffers go back to the system when freed (ml.runtime), so rarely.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# TLS ends at the platform's router; trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"   # heartbeat files off a possibly slow disk



def pre_fork(server, worker):
    """Move everything the preloaded app created into the garbage collector's permanent
    generation: a full collection in a worker then skips those ~90k objects (measured 50 ms
    each time, a latency spike under load, against < 0.1 ms frozen) and never writes to their
    pages, so workers keep sharing them with the master."""
    gc.freeze()


def post_fork(server, worker):
    """Load this worker's own speech detector now (its ONNX runtime does not survive a fork), so
    the first request does not wait for it."""
    from ml import vad
    vad.load_models()


def child_exit(server, worker):
    """A worker ended (even SIGKILLed): delete the temporary uploads it was writing."""
    from classifier.uploads import remove_temp_files
    removed = remove_temp_files(pid=worker.pid)
    if removed:
        server.log.warning("Removed %d temporary upload(s) of worker %s", removed, worker.pid)


# Workers x threads already use the cores: keep numeric libraries single-threaded per request.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
