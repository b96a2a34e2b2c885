"""Service layer between views/API/commands and the ml package: model loading, analysing an
upload into a saved Analysis (result, segment timeline, plots, optional kept audio), history."""
import csv
import os
import re
import threading
import time
import unicodedata
import uuid
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from django.core.files import File
from django.db import transaction

from ml import AudioError, ModelError, Predictor, segment
from ml import audio_plots
from ml.audio import SAMPLE_RATE, decode
from ml.errors import TimeLimitError

from . import profiles, strikes, uploads
from .models import Analysis

KEPT_EXTENSIONS = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".webm", ".mp4"}

_lock = threading.Lock()
_plot_lock = threading.Lock()
_predictor = None
_slots = None   # (size, semaphore) of analysis_slot


@contextmanager
def analysis_slot():
    """Wait for one of the process's settings.SER_ANALYSES_PER_WORKER analysis slots and yield
    the analysis deadline (a time.monotonic() value, settings.SER_ANALYSIS_TIMEOUT_S from now,
    waiting included). Bounds the memory and CPU a worker spends at once, whatever its threads."""
    global _slots
    if _slots is None or _slots[0] != settings.SER_ANALYSES_PER_WORKER:
        _slots = (settings.SER_ANALYSES_PER_WORKER,
                  threading.BoundedSemaphore(settings.SER_ANALYSES_PER_WORKER))
    slots = _slots[1]
    deadline = time.monotonic() + settings.SER_ANALYSIS_TIMEOUT_S
    if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise TimeLimitError("The server is busy; try again in a moment.")
    try:
        yield deadline
    finally:
        slots.release()


def check_deadline(deadline):
    """Raise TimeLimitError once time.monotonic() is past deadline."""
    if time.monotonic() > deadline:
        raise TimeLimitError("Analysing this recording took too long.")


def get_predictor():
    """The process-wide Predictor for settings.SER_MODEL_PATH, loaded once (ModelError if bad)."""
    global _predictor
    if _predictor is None:
        with _lock:
            if _predictor is None:
                _predictor = Predictor.from_path(settings.SER_MODEL_PATH)
    return _predictor


def analyse_upload(upload, source=Analysis.Source.UPLOAD, keep=False, owner=None,
                   profile=None, adaptation=None):
    """Analyse a Django UploadedFile and save it to owner's history; returns the Analysis.

    profile: a VoiceProfile of owner to adapt to; if its owner opted in (profile.learn), the
    clip's features are then added to it. Without one, adaptation (an ml.speaker.Adaptation,
    e.g. a live session's own speaker) is used if given, else the generic model.

    With owner None (the API without a token) nothing is stored: the Analysis is returned
    unsaved and keep is ignored. Raises ml.AudioError (uploads.UploadRejected for
    size/emptiness) with a user-facing message, ModelError if the model cannot be loaded. The audio is stored only if keep is true;
    otherwise nothing of it outlives the request except the result and the compact data its
    waveform and spectrogram pictures are drawn from (plot_png).
    """
    predictor = get_predictor()
    with uploads.temporary_path(upload) as path:
        with analysis_slot() as deadline:
            started = time.perf_counter()
            try:
                mono = decode(path, max_duration_s=uploads.max_duration_s(),
                              deadline=deadline).samples
            except TimeLimitError:
                raise
            except AudioError:
                strikes.refused_upload()   # not audio or over the limits: a strike
                raise
            check_deadline(deadline)
            if profile is not None:
                adaptation = profiles.adaptation(profile)
            # one analysis (ml.segment): the headline is the aggregate of the timeline's windows
            plan = segment.plan(mono)
            features = segment.featurise(plan, predictor.config)
            prediction, segments = predictor.combine(plan, features, started, adaptation)
            plot_data = audio_plots.plot_data(mono, SAMPLE_RATE) if owner else b""  # file clock
            check_deadline(deadline)
        analysis = Analysis(source=source, filename=(upload.name or "")[:255],
                            segments=segments, **prediction.to_dict())
        if owner is None:
            return analysis
        analysis.plot_data = plot_data
        for name, value in owner.fields().items():
            setattr(analysis, name, value)
        if keep:
            _save_with_audio(analysis, path, upload.name)
        else:
            analysis.save()
        profiles.learn_from(profile, features, plan.analysed_s)
    return analysis


HEAVY_FIELDS = ("waveform_png", "spectrogram_png", "plot_data")  # deferred in lists
PLOTS = {"waveform": ("waveform_png", audio_plots.waveform_png),  # kind: (field, drawer)
         "spectrogram": ("spectrogram_png", audio_plots.spectrogram_png)}


def plot_png(rows, kind):
    """PNG bytes of the waveform or spectrogram of the analysis in rows (a queryset already
    narrowed to one analysis the caller may see), or None if there is none.

    Drawn from the stored plot data the first time it is asked for, then kept in the row.
    """
    field, draw = PLOTS[kind]
    row = rows.values_list("pk", field, "plot_data").first()
    if row is None:
        return None
    pk, png, data = row
    if png or not data:
        return bytes(png) if png else None
    with _plot_lock:  # matplotlib's font cache and Agg renderer are not thread-safe
        png = draw(data)
    Analysis.objects.filter(pk=pk).update(**{field: png})
    return png


def _kept_name(original):
    ext = os.path.splitext(original or "")[1].lower()
    return uuid.uuid4().hex + (ext if ext in KEPT_EXTENSIONS else ".audio")


def _save_with_audio(analysis, path, original_name):
    """Save the row, then the file it names: a crash at any point leaves at worst a row whose
    audio is missing (shown as such, and cleared by `manage.py cleanup`), never a file that no
    row names."""
    field = analysis.audio.field
    analysis.audio.name = field.generate_filename(analysis, _kept_name(original_name))
    analysis.save()
    try:
        with open(path, "rb") as f:
            stored = field.storage.save(analysis.audio.name, File(f))
    except BaseException:
        Analysis.objects.filter(pk=analysis.pk).update(audio="")
        analysis.audio.name = ""
        raise
    if stored != analysis.audio.name:   # the storage chose another name
        analysis.audio.name = stored
        Analysis.objects.filter(pk=analysis.pk).update(audio=stored)


def delete_all(owner):
    """Delete every analysis of owner and its kept audio; returns how many were deleted."""
    with transaction.atomic():
        count = 0
        for analysis in Analysis.objects.owned_by(owner).iterator():
            analysis.delete()
            count += 1
    return count


# First characters that make a spreadsheet cell a formula (also in their full-width forms,
# which spreadsheets fold to these).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
CSV_COLUMNS = ["id", "created_at", "source", "filename", "emotion", "confidence", "gender",
               "gender_confidence", "duration_s", "processing_ms", "audio_kept"]


def _cell(value):
    """A CSV cell that spreadsheets will not run as a formula: prefixed with ' when it, or any
    part of it after a , or ; (a separator in some locales), starts with a formula character
    once spaces are dropped and full-width characters folded (NFKC)."""
    text = str(value)
    parts = re.split(r"[,;]", unicodedata.normalize("NFKC", text))
    if any(part.lstrip(" \u00a0\u3000").startswith(FORMULA_STARTS) for part in parts):
        return "'" + text
    return text


class _Line:
    """A file-like object whose write() returns what was written (for csv.writer)."""

    def write(self, text):
        return text


def csv_lines(analyses, emotions):
    """The history as CSV lines, one row per analysis, one probability column per emotion;
    every field quoted, so a separator inside a cell never starts a new one."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_ALL)
    yield writer.writerow(CSV_COLUMNS + [f"p_{e}" for e in emotions])
    for a in analyses:
        yield writer.writerow(
            [a.uid, a.created_at.isoformat(), a.source, _cell(a.filename), a.emotion,
             f"{a.confidence:.4f}", a.gender, f"{a.gender_confidence:.4f}",
             f"{a.duration_s:.3f}", f"{a.processing_ms:.1f}", int(bool(a.audio))]
            + [f"{a.probabilities.get(e, 0.0):.4f}" for e in emotions])


def model_info():
    """Public metadata of the loaded model: emotions, data, speaker-independent figures
    (the training folder's server path is left out)."""
    meta = get_predictor().artifact.metadata
    evaluation = dict(meta.get("evaluation") or {})
    training = {k: v for k, v in (meta.get("training_data") or {}).items() if k != "source"}
    return {
        "emotions": get_predictor().artifact.emotions,
        "feature_set": (meta.get("feature_set") or {}).get("name", ""),
        "n_features": meta.get("n_features"),
        "sample_rate": meta.get("sample_rate"),
        "created_at": meta.get("created_at", ""),
        "content_hash": meta.get("content_hash", ""),
        "libraries": meta.get("libraries", {}),
        "training_data": training,
        "evaluation": evaluation,
        # out-of-fold figures of the speaker-adapted part (None: the model has none)
        "adaptation": (meta.get("calibration") or {}).get("adapted"),
    }


def model_facts():
    """What the loaded model knows, for the pages' plain sentence: {"actors", "emotions",
    "accuracy" (% on unseen actors), "chance" (%)}; None if the model cannot be loaded."""
    try:
        meta = get_predictor().artifact.metadata
    except ModelError:
        return None
    emotions = meta.get("emotions") or []
    accuracy = (meta.get("evaluation") or {}).get("accuracy_mean")
    if not emotions or accuracy is None:
        return None
    return {"actors": len((meta.get("training_data") or {}).get("actors", [])),
            "emotions": len(emotions), "accuracy": round(100 * accuracy),
            "chance": round(100 / len(emotions))}


def model_confusion_png():
    """PNG of the model's speaker-independent confusion matrix, or None if it has none."""
    meta = get_predictor().artifact.metadata
    return _confusion_png_for(meta.get("content_hash", ""))


@lru_cache(maxsize=4)
def _confusion_png_for(content_hash):
    evaluation = get_predictor().artifact.metadata.get("evaluation") or {}
    if not evaluation.get("confusion_matrix") or not evaluation.get("labels"):
        return None
    with _plot_lock:
        return audio_plots.confusion_png(evaluation["confusion_matrix"], evaluation["labels"])


def keep_audio_days():
    """How many days a kept recording is kept (settings.SER_KEEP_AUDIO_DAYS), for pages."""
    return _days(settings.SER_KEEP_AUDIO_DAYS)


def keep_results_days():
    """How many days an analysis is kept (settings.SER_KEEP_RESULTS_DAYS), for pages."""
    return _days(settings.SER_KEEP_RESULTS_DAYS)


def _days(value):
    return int(value) if float(value).is_integer() else value
