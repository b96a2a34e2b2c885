"""Server microphone: record from the microphone of the machine running Django (local use).

Off unless settings.SER_SERVER_MIC, and then only for requests from loopback that did not come
through a proxy; everything else gets 404, so the page does not exist on a deployed site. One
recording at a time runs in a background thread of this process (meant for `runserver`); the
page polls its level and state, and lands on the usual result page.
"""
import io
import ipaddress
import re
import threading
import time
from functools import wraps

import soundfile as sf
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from ml import SAMPLE_RATE, AudioError, ModelError
from ml.capture import (MAX_S, CaptureError, Microphone, list_devices, load_pyaudio,
                        no_device_message, record_until_silence)
from ml.segment import GATE_S
from ml.vad import speech_regions

from . import services
from .models import Analysis
from .owners import Owner

# Any header a proxy or CDN uses to pass on a client's address (X-Forwarded-For, Forwarded,
# X-Real-IP, X-Client-IP, True-Client-IP, CF-Connecting-IP, Fastly-Client-IP, Via, ...).
PROXY_HEADER = re.compile(r"^HTTP_(\w*FORWARDED\w*|\w*CLIENT_IP|\w*CONNECTING_IP|\w*REAL_IP|"
                          r"\w*ORIGINATING_IP|VIA)$")


def is_local_request(request):
    """True for a request made from this machine directly (loopback, no proxy in between)."""
    if any(PROXY_HEADER.match(name) for name in request.META):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def local_only(view):
    """404 unless the server microphone is enabled and the request is local."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (settings.SER_SERVER_MIC and is_local_request(request)):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)
    return wrapper


class Recording:
    """One server-microphone recording running in a background thread."""

    def __init__(self, owner, device=None, max_s=MAX_S):
        self.owner, self.device, self.max_s = owner, device, max_s
        self.state, self.error, self.url = "starting", "", ""
        self.level_db, self.speech, self.started = -120.0, False, time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-mic", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()

    @property
    def running(self):
        return self._thread.is_alive()

    def status(self):
        """JSON-ready state for the page."""
        return {"state": self.state, "error": self.error, "url": self.url,
                "level_db": round(self.level_db, 1), "speech": self.speech,
                "elapsed_s": round(time.monotonic() - self.started, 1), "max_s": self.max_s}

    def _level(self, level_db, speech):
        self.level_db, self.speech = level_db, speech
        if speech and self.state == "listening":
            self.state = "recording"

    def _run(self):
        try:
            with Microphone(self.device) as mic:
                self.state = "listening"
                samples = record_until_silence(mic, max_s=self.max_s, on_level=self._level,
                                               should_stop=self._stop.is_set)
            self.state = "analysing"
            self.url = self._save(samples, self.owner)
            self.state = "done"
        except (CaptureError, AudioError, ModelError) as exc:
            self.state, self.error = "error", str(exc)
        finally:
            connection.close()  # this thread's database connection

    @staticmethod
    def _save(samples, owner):
        if not len(samples) or not speech_regions(samples, enough_s=GATE_S):
            raise AudioError("No speech was heard. Speak closer to the microphone, then try "
                             "again.")
        wav = io.BytesIO()
        sf.write(wav, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
        upload = SimpleUploadedFile(f"server-mic-{time.strftime('%Y%m%d-%H%M%S')}.wav",
                                    wav.getvalue(), content_type="audio/wav")
        analysis = services.analyse_upload(upload, Analysis.Source.SERVER_MIC, owner=owner)
        return reverse("result", args=[analysis.uid])


_lock = threading.Lock()
_current = None


def availability():
    """(devices, problem, pyaudio_missing): the input devices, or why there are none."""
    try:
        load_pyaudio()
    except CaptureError as exc:
        return [], str(exc), True
    try:
        devices = list_devices()
    except CaptureError as exc:
        return [], str(exc), False
    return devices, "" if devices else f"{no_device_message()} (PyAudio is installed.)", False


@require_GET
@local_only
def page(request):
    """Start/stop controls, a level meter, and the state of the current recording."""
    devices, problem, pyaudio_missing = availability()
    return render(request, "classifier/mic.html", {
        "devices": devices, "problem": problem, "pyaudio_missing": pyaudio_missing,
        "max_s": MAX_S})


@require_POST
@local_only
def start(request):
    """Start recording (device=INDEX optional); 409 while another recording runs."""
    global _current
    try:
        device = int(request.POST["device"]) if request.POST.get("device") else None
    except ValueError:
        return JsonResponse({"error": "device must be a device index."}, status=400)
    with _lock:
        if _current is not None and _current.running:
            return JsonResponse({"error": "A recording is already running."}, status=409)
        owner = request.owner  # resolved here: the recording thread has no request
        _current = Recording(Owner(owner.user_id, owner.visitor), device)
        _current.start()
    return JsonResponse(_current.status())


@require_GET
@local_only
def status(request):
    """The current (or last) recording's state, level and, when done, its result page."""
    if _current is None:
        return JsonResponse({"state": "idle"})
    return JsonResponse(_current.status())


@require_POST
@local_only
def stop(request):
    """Stop the current recording; what was said so far is analysed."""
    if _current is None or not _current.running:
        return JsonResponse({"error": "Nothing is being recorded."}, status=409)
    _current.stop()
    return JsonResponse(_current.status())


urlpatterns = [
    path("", page, name="mic"),
    path("start", start, name="mic_start"),
    path("status", status, name="mic_status"),
    path("stop", stop, name="mic_stop"),
]
