"""JSON API (django-ninja): predict, one past analysis, model metadata; OpenAPI 3 at
/api/schema, interactive docs at /api/docs (Swagger UI from local static files).

The API is CSRF-exempt by design: it has no login and no cookies to ride on (it reads only the
posted file), so a cross-site request could do nothing a direct request cannot.
"""
import logging

from django.http import Http404
from ninja import Field, File, NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.files import UploadedFile

from ml import AudioError, ModelError

from . import services, uploads
from .models import Analysis

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="Speech Emotion Recognition API",
    version="1",
    description="Recognise the emotion (and speaker gender) in a speech recording. Send audio "
                "as multipart field `file`: WAV, FLAC, OGG/Opus, MP3, M4A/AAC or WebM/Opus. "
                "Errors are JSON `{\"error\": \"...\"}` with a 4xx status. CSRF-exempt: the API "
                "uses no cookies or sessions.",
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
)


class Segment(Schema):
    start_s: float = Field(description="window start, seconds from the start of the file")
    end_s: float
    speech_s: float | None = Field(
        None, description="seconds of detected speech in the window: its weight in the "
        "recording's overall answer (0 for \"silence\")")
    emotion: str
    confidence: float
    probabilities: dict[str, float]


class PredictionOut(Schema):
    id: int
    emotion: str
    confidence: float
    probabilities: dict[str, float]
    gender: str
    gender_confidence: float
    duration_s: float
    processing_ms: float
    uncertain: bool = Field(
        False, description="true when the top probability is under the model's threshold "
        "(chosen by actor-grouped cross-validation: below it answers were right less than half "
        "of the time); then show `top_two` rather than `emotion` alone")
    top_two: list[str] = Field(
        [], description="the two most likely emotions, most likely first")
    segments: list[Segment] | None = None


class ErrorOut(Schema):
    error: str


class ModelOut(Schema):
    emotions: list[str]
    feature_set: str
    n_features: int | None
    sample_rate: int | None
    created_at: str
    content_hash: str
    libraries: dict[str, str]
    training_data: dict
    evaluation: dict


ERRORS = {400: ErrorOut, 413: ErrorOut, 422: ErrorOut, 503: ErrorOut}


def _error(request, message, status):
    return api.create_response(request, {"error": message}, status=status)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors})
    return _error(request, f"Invalid request: missing or invalid field(s) {', '.join(fields)}. "
                           f"Send the audio as multipart form field \"file\".", 422)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, str(exc) or "Not found.", 404)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error")
    return _error(request, "Internal error; the failure was logged.", 500)


@api.post("/predict", response={200: PredictionOut, **ERRORS}, exclude_none=True,
          url_name="predict", summary="Recognise the emotion in a recording")
def predict(request, file: UploadedFile = File(..., description="the audio file")):
    """Analyse one recording. The answer is the `predict --json` object plus the history `id`.
    Probabilities are calibrated (a "0.7" is right about 70% of the time on unseen speakers);
    `uncertain` says when to show the two most likely emotions (`top_two`) instead of one.
    When the speech spans more than 5 s (longer than the training clips) the recording is
    analysed in overlapping 3 s windows every 1.5 s from the first speech to the last, listed in
    `segments` (emotion "silence" where nobody speaks), and the answer is their
    speech-weighted mean. A recording without speech (noise, music, tones) is refused with 400
    "No speech detected". The audio is never kept."""
    try:
        analysis = services.analyse_upload(file, Analysis.Source.API, keep=False)
    except AudioError as exc:
        return uploads.status_for(exc), {"error": str(exc)}
    except ModelError as exc:
        return 503, {"error": str(exc)}
    return 200, analysis.result()


@api.get("/analyses/{analysis_id}", response={200: PredictionOut, 404: ErrorOut},
         exclude_none=True, summary="One past analysis")
def analysis_detail(request, analysis_id: int):
    """The stored result of an earlier analysis (from the page or the API)."""
    analysis = (Analysis.objects.defer(*services.HEAVY_FIELDS)
                .filter(pk=analysis_id).first())
    if analysis is None:
        return 404, {"error": f"No analysis with id {analysis_id}."}
    return 200, analysis.result()


@api.get("/model", response={200: ModelOut, 503: ErrorOut}, url_name="model",
         summary="Model metadata and figures")
def model(request):
    """Emotions, training-data summary and speaker-independent evaluation of the loaded model."""
    try:
        return 200, services.model_info()
    except ModelError as exc:
        return 503, {"error": str(exc)}
