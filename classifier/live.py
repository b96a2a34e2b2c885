"""Live mode: the page streams microphone PCM in short POSTs; each answer is the emotion of the
last few seconds (or "silence"). Stopping saves the session to the history like any analysis.

Chunked HTTP rather than WebSockets: it runs unchanged under gunicorn/WSGI on any PaaS, through
any proxy, with Django's CSRF protection and no ASGI server or channel layer to operate. A
session is a random capability token naming a raw PCM file in a temporary folder, so every
worker process of the machine can serve every chunk.

    POST live/start?rate=48000      -> {"session", "chunk_url", "save_url", "discard_url", ...}
    POST live/<token>/chunk         body: little-endian int16 mono PCM at that rate
                                    -> {"entry": {start_s, end_s, emotion, ...}, "level_db", "t"}
    POST live/<token>/save          (keep=1 keeps the audio) -> {"url": result page}
    POST live/<token>/discard
"""
import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import JsonResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ml import SAMPLE_RATE, AudioError, ModelError
from ml.audio import to_mono_16k
from ml.segment import latest

from . import services
from .models import Analysis

WINDOW_S = 2.5          # the timeline shows the emotion of the last WINDOW_S
CONTEXT_S = 8.0         # speech detection looks this far back (steadier noise floor)
MAX_CHUNK_S = 5.0       # one POST carries at most this much audio
SESSION_TTL_S = 3600    # abandoned sessions are deleted after this long
MAX_SESSIONS = 50       # open sessions at once (bounds the disk they use)
RATES = range(8000, 96001)
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder():
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()) / "ser-live"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _session_file(token):
    """(path, rate) of a live session, or (None, None) when there is no such session."""
    if not TOKEN.match(token):
        return None, None
    for candidate in _folder().glob(f"{token}_*.pcm"):
        return candidate, int(candidate.stem.split("_")[1])
    return None, None


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


def _remove_stale():
    cutoff = time.time() - SESSION_TTL_S
    for old in _folder().glob("*.pcm"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass  # another worker removed it first


def _read_pcm(pcm_path, rate, last_s=None):
    """Samples of a session file as float32 at its rate (only the last last_s if given)."""
    with open(pcm_path, "rb") as f:
        if last_s is not None:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - int(last_s * rate) * 2))
        data = f.read()
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0


@require_POST
def start(request):
    """Open a live session for PCM at ?rate= Hz."""
    try:
        rate = int(request.GET.get("rate", ""))
    except ValueError:
        rate = 0
    if rate not in RATES:
        return _error("Give the sample rate as ?rate= (8000 to 96000 Hz).", 400)
    _remove_stale()
    if sum(1 for _ in _folder().glob("*.pcm")) >= MAX_SESSIONS:
        return _error("Too many live sessions are open; try again in a minute.", 503)
    token = secrets.token_hex(16)
    (_folder() / f"{token}_{rate}.pcm").touch(mode=0o600)
    return JsonResponse({
        "session": token, "window_s": WINDOW_S, "max_s": settings.SER_LIVE_MAX_S,
        "chunk_url": reverse("live_chunk", args=[token]),
        "save_url": reverse("live_save", args=[token]),
        "discard_url": reverse("live_discard", args=[token]),
    })


@require_POST
def chunk(request, token):
    """Append a PCM chunk and answer with the emotion of the last WINDOW_S."""
    pcm_path, rate = _session_file(token)
    if pcm_path is None:
        return _error("This live session does not exist (it may have expired).", 404)
    body = request.body
    if not body or len(body) % 2:
        return _error("Send the audio as 16-bit little-endian mono PCM.", 400)
    if len(body) > MAX_CHUNK_S * rate * 2:
        return _error(f"A chunk may hold at most {MAX_CHUNK_S:.0f} s of audio.", 413)
    total_s = (pcm_path.stat().st_size + len(body)) / 2 / rate
    if total_s > settings.SER_LIVE_MAX_S:
        return _error(f"Live sessions are limited to {settings.SER_LIVE_MAX_S:.0f} s; "
                      f"stop and save this one.", 413)
    with open(pcm_path, "ab") as f:
        f.write(body)
    pcm = np.frombuffer(body, dtype="<i2").astype(np.float64) / 32768.0
    level = 10 * np.log10(max(float(np.mean(np.square(pcm))), 1e-20))
    recent = to_mono_16k(_read_pcm(pcm_path, rate, CONTEXT_S), rate)
    try:
        entry = latest(services.get_predictor(), recent, WINDOW_S)
    except ModelError as exc:
        return _error(str(exc), 503)
    offset = total_s - len(recent) / SAMPLE_RATE
    entry["start_s"] = round(entry["start_s"] + offset, 3)
    entry["end_s"] = round(entry["end_s"] + offset, 3)
    return JsonResponse({"entry": entry, "level_db": round(level, 1), "t": round(total_s, 3)})


@require_POST
def save(request, token):
    """Analyse the whole session like an upload (a recording without speech is refused with
    "No speech detected" and nothing is saved), save it to the history, end the session."""
    pcm_path, rate = _session_file(token)
    if pcm_path is None:
        return _error("This live session does not exist (it may have expired).", 404)
    samples = to_mono_16k(_read_pcm(pcm_path, rate), rate)
    pcm_path.unlink(missing_ok=True)
    wav = io.BytesIO()
    sf.write(wav, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    upload = SimpleUploadedFile(f"live-{time.strftime('%Y%m%d-%H%M%S')}.wav", wav.getvalue(),
                                content_type="audio/wav")
    try:
        analysis = services.analyse_upload(upload, Analysis.Source.LIVE,
                                           keep=request.POST.get("keep") == "1")
    except AudioError as exc:
        return _error(str(exc), 400)
    except ModelError as exc:
        return _error(str(exc), 503)
    return JsonResponse({"id": analysis.pk, "url": reverse("result", args=[analysis.pk])})


@require_POST
def discard(request, token):
    """End a session without saving anything."""
    pcm_path, _ = _session_file(token)
    if pcm_path is not None:
        pcm_path.unlink(missing_ok=True)
    return JsonResponse({"discarded": pcm_path is not None})


urlpatterns = [
    path("start", start, name="live_start"),
    path("<str:token>/chunk", chunk, name="live_chunk"),
    path("<str:token>/save", save, name="live_save"),
    path("<str:token>/discard", discard, name="live_discard"),
]
