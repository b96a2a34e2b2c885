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
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape

from ml import AudioError
from ml.errors import TimeLimitError

# Room for the multipart boundaries, part headers and small form fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


# An oversized body up to this many times the limit is read and thrown away (never stored)
# after the 413 is decided, so that the client, still sending, sees the answer instead of a
# connection reset. Larger declared bodies are not read at all.
DISCARD_MAX_FACTOR = 4


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


def too_large_message(size):
    """User-facing message for an upload of size bytes."""
    return (f"The file is too large ({size / 2**20:.1f} MB); the limit is "
            f"{max_bytes() / 2**20:.0f} MB.")


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
            fd, own = tempfile.mkstemp(prefix="ser-upload-", suffix=".audio",
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
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Upload refused</title></head><body><h1>Upload refused</h1>"
            f"<p>{escape(message)}</p><p><a href=\"/\">Back</a></p></body></html>")
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


class UploadLimitMiddleware:
    """Answer 413 to any request whose declared body is larger than the upload limit (plus
    multipart overhead) before anything reads it (Django never reads past Content-Length, so
    this bounds every request body); answer 400 to multipart bodies that cannot be parsed."""

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
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.FILES  # parse now (streaming files to disk) to catch malformed bodies
            except MultiPartParserError:
                return error_response(request, "The upload is not valid multipart/form-data; "
                                               "send the audio as form field \"file\".", 400)
        return self.get_response(request)
