"""Live mode: the page streams microphone PCM in short POSTs; each answer is the emotion of the
last few seconds (or "silence"). Stopping saves the session to the history like any analysis.

Chunked HTTP rather than WebSockets: it runs unchanged under gunicorn/WSGI on any PaaS, through
any proxy, with Django's CSRF protection and no ASGI server or channel layer to operate. A
session is a random capability token naming a raw PCM file in a temporary folder, so every
worker process of the machine can serve every chunk. The file name also carries keyed hashes of
the client's address and of its owner (classifier/owners.py: account or visitor cookie), so
another owner's chunk, save or discard is a 404; an owner has at most SESSIONS_PER_VISITOR sessions
(starting another ends their oldest), an address at most settings.SER_LIVE_SESSIONS_PER_IP
(429), the machine at most MAX_SESSIONS (503, a last resort); a session idle for
settings.SER_LIVE_IDLE_S is deleted. A missing session is a JSON 404, and is never re-created:
chunks append through a descriptor opened without O_CREAT, and save claims the file by an
atomic rename, so a racing chunk, save or discard finds it gone instead of failing.

    POST live/start?rate=48000[&adapt=1]
                                    -> {"session", "chunk_url", "save_url", "discard_url", ...}
    POST live/<token>/chunk         body: little-endian int16 mono PCM at that rate
                                    -> {"entry": {start_s, end_s, emotion, ..., adaptation},
                                        "level_db", "t", "voice"}

With adapt=1 the session adapts to the owner's voice profile, or else to its own speaker once
it has heard enough speech (classifier/live_voice.py).
    POST live/<token>/save          (keep=1 keeps the audio) -> {"url": result page}
    POST live/<token>/discard
"""
import hashlib
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

from . import limits, live_voice, services, uploads
from .models import Analysis

WINDOW_S = 2.5          # the timeline shows the emotion of the last WINDOW_S
CONTEXT_S = 8.0         # speech detection looks this far back (steadier noise floor)
MAX_CHUNK_S = 5.0       # one POST carries at most this much audio
SESSIONS_PER_VISITOR = 2   # a visitor's older sessions beyond this are ended
MAX_SESSIONS = 500      # open sessions on the machine at once, whoever opened them (last resort)
RATES = range(8000, 96001)
TOKEN = re.compile(r"^[0-9a-f]{32}$")
SAVING = ".saving"      # suffix of a session file claimed by a save


def _folder(create=True):
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()) / "ser-live"
    if create:
        folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _tag(text):
    """A short keyed hash (safe in file names, says nothing about the client)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:live:{text}".encode()).hexdigest()[:16]


def _session_file(token, owner):
    """(path, rate) of owner's live session, or (None, None) when owner has no such session."""
    if not TOKEN.match(token):
        return None, None
    for candidate in _folder().glob(f"{token}_*_{owner.tag}.pcm"):
        return candidate, int(candidate.stem.split("_")[1])
    return None, None


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


def _gone():
    return _error("This live session does not exist (it may have expired).", 404)


def remove_idle():
    """Delete sessions (and abandoned saves) idle for longer than settings.SER_LIVE_IDLE_S;
    returns how many."""
    cutoff, count = time.time() - settings.SER_LIVE_IDLE_S, 0
    for old in _folder(create=False).glob("*.pcm*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
                count += 1
        except FileNotFoundError:
            pass  # another worker removed it first
    return count


def _sessions(pattern="*"):
    """Open sessions whose file name matches pattern, oldest first."""
    found = []
    for path in _folder().glob(f"{pattern}.pcm"):
        try:
            found.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            pass
    return [path for _, path in sorted(found)]


def _read_pcm(fd, rate, last_s=None):
    """Samples of an open session file as float32 at its rate (only the last last_s if given)."""
    size = os.fstat(fd).st_size
    start = 0 if last_s is None else max(0, size - int(last_s * rate) * 2)
    data = os.pread(fd, size - start, start)
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0


@require_POST
@limits.limited("live-start", "SER_RATE_LIVE_START")
def start(request):
    """Open a live session for PCM at ?rate= Hz."""
    try:
        rate = int(request.GET.get("rate", ""))
    except ValueError:
        rate = 0
    if rate not in RATES:
        return _error("Give the sample rate as ?rate= (8000 to 96000 Hz).", 400)
    remove_idle()
    address, person = _tag(limits.client_ip(request)), request.owner.tag
    own = _sessions(f"*_{person}")
    for old in own[:max(0, len(own) + 1 - SESSIONS_PER_VISITOR)]:
        old.unlink(missing_ok=True)      # the visitor's oldest sessions make room
    if len(_sessions(f"*_{address}_*")) >= settings.SER_LIVE_SESSIONS_PER_IP:
        return _error("Too many live sessions are open from your network; stop one or try "
                      "again in a few minutes.", 429)
    if len(_sessions()) >= MAX_SESSIONS:
        return _error("Too many live sessions are open; try again in a minute.", 503)
    token = secrets.token_hex(16)
    pcm_path = _folder() / f"{token}_{rate}_{address}_{person}.pcm"
    pcm_path.touch(mode=0o600)
    live_voice.begin(pcm_path, request.owner, request.GET.get("adapt") == "1")
    return JsonResponse({
        "session": token, "window_s": WINDOW_S, "max_s": settings.SER_LIVE_MAX_S,
        "chunk_url": reverse("live_chunk", args=[token]),
        "save_url": reverse("live_save", args=[token]),
        "discard_url": reverse("live_discard", args=[token]),
    })


@require_POST
@limits.limited("live-chunk", "SER_RATE_LIVE_CHUNK")
def chunk(request, token):
    """Append a PCM chunk and answer with the emotion of the last WINDOW_S."""
    pcm_path, rate = _session_file(token, request.owner)
    if pcm_path is None:
        return _gone()
    limit = int(MAX_CHUNK_S * rate * 2)
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:   # refused before it is read
        return _error(f"A chunk may hold at most {MAX_CHUNK_S:.0f} s of audio.", 413)
    body = request.body
    if not body or len(body) % 2:
        return _error("Send the audio as 16-bit little-endian mono PCM.", 400)
    if len(body) > limit:
        return _error(f"A chunk may hold at most {MAX_CHUNK_S:.0f} s of audio.", 413)
    try:   # no O_CREAT: a session discarded or saved meanwhile is not re-created
        fd = os.open(pcm_path, os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        return _gone()
    try:
        total_s = (os.fstat(fd).st_size + len(body)) / 2 / rate
        if total_s > settings.SER_LIVE_MAX_S:
            return _error(f"Live sessions are limited to {settings.SER_LIVE_MAX_S:.0f} s; "
                          f"stop and save this one.", 413)
        os.write(fd, body)
        recent = to_mono_16k(_read_pcm(fd, rate, CONTEXT_S), rate)
    finally:
        os.close(fd)
    pcm = np.frombuffer(body, dtype="<i2").astype(np.float64) / 32768.0
    level = 10 * np.log10(max(float(np.mean(np.square(pcm))), 1e-20))
    try:
        state = live_voice.read(pcm_path)
        voice = live_voice.adaptation(state, request.owner)
        entry = latest(services.get_predictor(), recent, WINDOW_S, voice)
        state = live_voice.hear(pcm_path, state, recent, total_s, entry, WINDOW_S)
    except ModelError as exc:
        return _error(str(exc), 503)
    offset = total_s - len(recent) / SAMPLE_RATE
    entry["start_s"] = round(entry["start_s"] + offset, 3)
    entry["end_s"] = round(entry["end_s"] + offset, 3)
    entry["adaptation"] = voice.describe() if voice and entry["probabilities"] else None
    return JsonResponse({"entry": entry, "level_db": round(level, 1), "t": round(total_s, 3),
                         "voice": live_voice.status(state)})


@require_POST
def save(request, token):
    """Analyse the whole session like an upload (a recording without speech is refused with
    "No speech detected" and nothing is saved), save it to the owner's history, end the
    session."""
    pcm_path, rate = _session_file(token, request.owner)
    if pcm_path is None:
        return _gone()
    state = live_voice.read(pcm_path)
    claimed = pcm_path.with_name(pcm_path.name + SAVING)
    try:
        os.rename(pcm_path, claimed)    # atomic: of racing saves and discards, one wins
        fd = os.open(claimed, os.O_RDONLY)
    except FileNotFoundError:
        return _gone()
    try:
        samples = to_mono_16k(_read_pcm(fd, rate), rate)
    finally:
        os.close(fd)
        claimed.unlink(missing_ok=True)
        live_voice.end(pcm_path)
    wav = io.BytesIO()
    sf.write(wav, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    upload = SimpleUploadedFile(f"live-{time.strftime('%Y%m%d-%H%M%S')}.wav", wav.getvalue(),
                                content_type="audio/wav")
    try:
        analysis = services.analyse_upload(upload, Analysis.Source.LIVE,
                                           keep=request.POST.get("keep") == "1",
                                           owner=request.owner,
                                           adaptation=live_voice.adaptation(state, request.owner))
    except AudioError as exc:
        return _error(str(exc), uploads.status_for(exc))
    except ModelError as exc:
        return _error(str(exc), 503)
    return JsonResponse({"id": str(analysis.uid), "url": reverse("result", args=[analysis.uid])})


@require_POST
def discard(request, token):
    """End a session without saving anything."""
    pcm_path, _ = _session_file(token, request.owner)
    try:
        if pcm_path is None:
            raise FileNotFoundError
        pcm_path.unlink()
    except FileNotFoundError:
        return _gone()
    live_voice.end(pcm_path)
    return JsonResponse({"discarded": True})


urlpatterns = [
    path("start", start, name="live_start"),
    path("<str:token>/chunk", chunk, name="live_chunk"),
    path("<str:token>/save", save, name="live_save"),
    path("<str:token>/discard", discard, name="live_discard"),
]
