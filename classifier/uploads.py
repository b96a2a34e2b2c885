"""Upload limits and temporary files: reject oversized requests before reading them, and hand
the analysis code a file on disk that is always deleted afterwards.

    with uploads.temporary_path(request.FILES.get("file")) as path:
        audio = ml.load_audio(path, max_duration_s=uploads.max_duration_s())

Errors are ml.AudioError subclasses (messages are for the user) carrying an HTTP status_code.
"""
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from ml import AudioError
from ml.errors import TimeLimitError
from sersite import deadlines

from . import strikes
from .errors import error_page

# Room for the multipart boundaries, part headers and small form fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


# An oversized body up to this many times the limit is read and thrown away (never stored)
# after the 413 is decided, so that the client, still sending, sees the answer instead of a
# connection reset. Larger declared bodies are not read at all.
DISCARD_MAX_FACTOR = 4


# Temporary files of uploads are named after the worker process that writes them, so that the
# files of a worker that died are found and deleted (gunicorn.conf.py child_exit, and
# `manage.py cleanup` in the release phase).
TEMP_PREFIX = "ser-upload-"


def temp_prefix(pid=None):
    """Name prefix of the temporary upload files of process pid (default: this process)."""
    return f"{TEMP_PREFIX}{pid or os.getpid()}-"


def temp_dir():
    """The folder temporary upload files are written to."""
    return settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()


def remove_temp_files(pid=None, older_than_s=None):
    """Delete the temporary upload files of process pid (all processes if None) that are older
    than older_than_s seconds (any age if None); returns how many were deleted."""
    prefix = temp_prefix(pid) if pid else TEMP_PREFIX
    cutoff = time.time() - (older_than_s or 0)
    count = 0
    for entry in os.scandir(temp_dir()):
        try:
            if entry.name.startswith(prefix) and (older_than_s is None
                                                  or entry.stat().st_mtime < cutoff):
                os.unlink(entry.path)
                count += 1
        except FileNotFoundError:
            pass
    return count


class NamedTemporaryUpload(TemporaryUploadedFile):
    """An upload streamed to a temporary file named temp_prefix() + random + ".upload" (the
    client's file name is not used: it cannot choose an extension on the server's disk)."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = tempfile.NamedTemporaryFile(prefix=temp_prefix(), suffix=".upload",
                                           dir=settings.FILE_UPLOAD_TEMP_DIR)
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class TemporaryUploadHandler(TemporaryFileUploadHandler):
    """Django's upload-to-disk handler with NamedTemporaryUpload files."""

    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = NamedTemporaryUpload(self.file_name, self.content_type, 0, self.charset,
                                         self.content_type_extra)


class UploadRejected(AudioError):
    """The upload is refused before any analysis; status_code is the HTTP status to answer."""
    status_code = 400


class UploadTooLarge(UploadRejected):
    """The upload is larger than settings.SER_MAX_UPLOAD_BYTES."""
    status_code = 413


def status_for(exc):
    """HTTP status for an error raised while handling an upload: 503 when the analysis ran out
    of time, else 400 unless the error says otherwise."""
    if isinstance(exc, TimeLimitError):
        return 503
    return getattr(exc, "status_code", 400)


def max_bytes():
    """The largest accepted audio file, in bytes."""
    return settings.SER_MAX_UPLOAD_BYTES


def max_duration_s():
    """The longest accepted recording, in seconds."""
    return settings.SER_MAX_DURATION_S


def format_size(size):
    """A byte count for people: "820 kB" below 1 MB, else "3.4 MB" (as static/.../status.js)."""
    if size < 2**20:
        return f"{max(1, round(size / 1024))} kB"
    mb = size / 2**20
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"


def too_large_message(size):
    """User-facing message for an upload of size bytes."""
    return f"The file is too large ({format_size(size)}); the limit is {format_size(max_bytes())}."


def check(upload):
    """Raise UploadRejected unless upload (a Django UploadedFile or None) is a non-empty file
    within the size limit."""
    if upload is None:
        raise UploadRejected("Choose an audio file to analyse (form field \"file\").")
    if upload.size is None or upload.size == 0:
        raise UploadRejected("The file is empty.")
    if upload.size > max_bytes():
        raise UploadTooLarge(too_large_message(upload.size))


@contextmanager
def temporary_path(upload):
    """Check the upload and yield the path of a temporary file holding it; the file (and the
    upload's own temporary file) is removed on exit, whatever happened."""
    check(upload)
    own = None
    try:
        if hasattr(upload, "temporary_file_path"):
            path = upload.temporary_file_path()
        else:
            fd, own = tempfile.mkstemp(prefix=temp_prefix(), suffix=".upload",
                                       dir=settings.FILE_UPLOAD_TEMP_DIR)
            with os.fdopen(fd, "wb") as out:
                upload.seek(0)
                shutil.copyfileobj(upload, out, 1024 * 1024)
            path = own
        yield path
    finally:
        if own is not None and os.path.exists(own):
            os.unlink(own)
        upload.close()


def discard_body(request, chunk=64 * 1024):
    """Read the request body to its end without keeping it (client disconnects are ignored)."""
    try:
        while request.read(chunk):
            pass
    except OSError:
        pass


def wants_json(request):
    """True for API and Live-mode requests and clients that ask for JSON."""
    return (request.path.startswith(("/api/", "/live/"))
            or "application/json" in request.headers.get("Accept", ""))


def error_response(request, message, status):
    """A JSON {"error": message} or a small HTML page, as the client prefers."""
    if wants_json(request):
        return HttpResponse(json.dumps({"error": message}), status=status,
                            content_type="application/json")
    return error_page(request, status, message)


class UploadLimitMiddleware:
    """Answer 413 to any request whose declared body is larger than the upload limit (plus
    multipart overhead) before anything reads it (Django never reads past Content-Length, so
    this bounds every request body); answer 400 to multipart bodies that cannot be parsed.
    The body is read here, under the minimum-rate rule of sersite.deadlines; then the request
    gets the analysis deadline plus time to answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_bytes() + MULTIPART_OVERHEAD_BYTES:
            if length <= DISCARD_MAX_FACTOR * max_bytes():
                discard_body(request)
            return error_response(request, too_large_message(length), 413)
        if length and strikes.held_back(request):
            time.sleep(strikes.PAUSE_S)
            return error_response(request, "Too many uploads from your address were refused; "
                                           "wait a minute, then send a supported recording.", 429)
        if length:
            refused = self._read_body(request)
            if refused is not None:
                return refused
        deadlines.received(settings.SER_ANALYSIS_TIMEOUT_S + deadlines.RESPONSE_S)
        strikes.take()
        response = self.get_response(request)
        if strikes.take() or response.status_code == 413:
            strikes.record(request)
        return response

    @staticmethod
    def _read_body(request):
        """Read the body now (files stream to disk); an error response if it is unusable."""
        try:
            if request.content_type == "multipart/form-data":
                request.FILES  # parse now (streaming files to disk) to catch malformed bodies
            else:
                request.body   # at most DATA_UPLOAD_MAX_MEMORY_SIZE, kept for the view
        except MultiPartParserError:
            return error_response(request, "The upload is not valid multipart/form-data; "
                                           "send the audio as form field \"file\".", 400)
        except RequestDataTooBig:
            return error_response(request, "The request body is too large.", 413)
        except (OSError, UnreadablePostError):
            return error_response(request, "The request body was not received in time.", 400)
        return None
