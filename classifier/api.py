"""JSON API (django-ninja): predict, the caller's past analyses, model metadata; OpenAPI 3 at
/api/schema, interactive docs at /api/docs (Swagger UI from local static files).

The API ignores cookies and sessions: the caller is the account of a personal token sent as
`Authorization: Bearer <token>` (classifier/tokens.py). With a token, predictions are stored in
that account's history and can be listed, read and deleted; without one, `POST /predict` still
answers but stores nothing. Being cookie-free, it is CSRF-exempt by design: a cross-site request
carries no credentials, so it can do nothing a direct request cannot.
"""
import logging
import uuid

from django.http import Http404
from ninja import Field, File, Form, NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.files import UploadedFile

from ml import AudioError, ModelError
from ml.speaker import ProfileError

from . import limits, profiles, services, uploads
from .models import Analysis
from .tokens import TokenAuth, api_owner

log = logging.getLogger(__name__)

OPTIONAL_AUTH = {"predict"}   # operations that also answer without a token


class Api(NinjaAPI):
    """NinjaAPI whose schema marks token-optional operations (security `{}` = no token)."""

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                if operation.get("operationId", "").rsplit("_", 1)[-1] in OPTIONAL_AUTH:
                    operation.setdefault("security", []).append({})
        return schema


api = Api(
    title="Speech Emotion Recognition API",
    version="1",
    description="Recognise the emotion (and speaker gender) in a speech recording. Send audio "
                "as multipart field `file`: WAV, FLAC, OGG/Opus, MP3, M4A/AAC or WebM/Opus. "
                "Authenticate with a personal token from your account page "
                "(`Authorization: Bearer ser_...`): predictions are then stored in your history "
                "and `/analyses` lists, reads and deletes them. Without a token `/predict` "
                "answers and stores nothing. Errors are JSON `{\"error\": \"...\"}` with a 4xx "
                "status (401 bad or missing token, 404 not found or not yours, 429 rate limit "
                "with `Retry-After`). CSRF-exempt: the API uses no cookies or sessions.",
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
    # No deep links: Swagger UI puts them inside its buttons (nested controls, tiny targets).
    docs=Swagger(settings={"deepLinking": False}),
)
token_auth = TokenAuth()


def no_token(request):
    """Auth callback letting requests without an Authorization header through anonymously."""
    return "Authorization" not in request.headers


class Segment(Schema):
    start_s: float = Field(description="window start, seconds from the start of the file")
    end_s: float
    speech_s: float | None = Field(
        None, description="seconds of detected speech in the window: its weight in the "
        "recording's overall answer (0 for \"silence\")")
    emotion: str
    confidence: float
    probabilities: dict[str, float]


class AdaptationOut(Schema):
    source: str = Field(description='"profile" (a voice profile) or "session" (what a live '
                        'session heard of its speaker)')
    profile: str | None = Field(None, description="the voice profile's name")
    clips: int = Field(description="clips of the speaker the statistics hold")
    seconds: float = Field(description="seconds of speech they came from")


class PredictionOut(Schema):
    id: str | None = None       # the history id (UUID); absent when nothing was stored
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
    adaptation: AdaptationOut | None = Field(
        None, description="present when the answer was adapted to the speaker's voice")


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


class AnalysisListOut(Schema):
    count: int
    items: list[PredictionOut]


class DeletedOut(Schema):
    deleted: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut,
          503: ErrorOut}


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


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    response = _error(request, "Missing or invalid API token: send `Authorization: Bearer "
                               "<token>` with a personal token from your account page.", 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, str(exc) or "Not found.", 404)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error")
    return _error(request, "Internal error; the failure was logged.", 500)


@api.post("/predict", response={200: PredictionOut, 404: ErrorOut, **ERRORS}, exclude_none=True,
          auth=[token_auth, no_token], url_name="predict",
          summary="Recognise the emotion in a recording")
def predict(request, file: UploadedFile = File(..., description="the audio file"),
            profile: str | None = Form(None, description="id of one of your voice profiles to "
                                       "adapt to (needs a token)")):
    """Analyse one recording. The answer is the `predict --json` object. Probabilities are
    calibrated (a "0.7" is right about 70% of the time on unseen speakers); `uncertain` says
    when to show the two most likely emotions (`top_two`) instead of one. When the speech spans
    more than 5 s (longer than the training clips) the recording is analysed utterance by
    utterance (cut at pauses; an utterance over 4 s in overlapping 3 s windows), listed in
    `segments` with pauses of 1 s or more as "silence", and the answer is their speech-weighted
    mean. A recording
    without speech (noise, music, tones) is refused with 400 "No speech detected". With a token
    the result is stored in the token's account history and has its `id`; without one nothing
    is stored. The audio is never kept. With `profile` (the id of one of the token account's
    voice profiles) the answer is adapted to that speaker's voice and says so in
    `adaptation`."""
    refused = limits.check(request, "api", "SER_RATE_API")
    if refused:
        return refused
    voice = None
    if profile:
        if api_owner(request) is None:
            return 401, {"error": "Adapting to a voice profile needs a token "
                                  "(Authorization: Bearer ...): profiles belong to accounts."}
        voice = _owned_profile(request, profile)
    try:
        analysis = services.analyse_upload(file, Analysis.Source.API, keep=False,
                                           owner=api_owner(request), profile=voice)
    except AudioError as exc:
        return uploads.status_for(exc), {"error": str(exc)}
    except ModelError as exc:
        return 503, {"error": str(exc)}
    return 200, analysis.result()


def _owned(request):
    return Analysis.objects.owned_by(api_owner(request)).defer(*services.HEAVY_FIELDS)


def _owned_one(request, analysis_id):
    try:
        uid = uuid.UUID(analysis_id)
    except ValueError:
        uid = None
    analysis = _owned(request).filter(uid=uid).first() if uid else None
    if analysis is None:
        raise Http404(f"You have no analysis with id {analysis_id}.")
    return analysis


@api.get("/analyses", response={200: AnalysisListOut, 401: ErrorOut}, exclude_none=True,
         auth=token_auth, summary="Your past analyses")
def analysis_list(request, limit: int = 20, offset: int = 0):
    """The token account's analyses, newest first (`limit` at most 100)."""
    rows = _owned(request)
    limit, offset = min(max(limit, 1), 100), max(offset, 0)
    return 200, {"count": rows.count(),
                 "items": [a.result() for a in rows[offset:offset + limit]]}


@api.get("/analyses/{analysis_id}", response={200: PredictionOut, 401: ErrorOut, 404: ErrorOut},
         exclude_none=True, auth=token_auth, summary="One of your past analyses")
def analysis_detail(request, analysis_id: str):
    """The stored result of one of the token account's analyses (404 if it is not theirs)."""
    return 200, _owned_one(request, analysis_id).result()


@api.delete("/analyses/{analysis_id}", response={200: DeletedOut, 401: ErrorOut, 404: ErrorOut},
            auth=token_auth, summary="Delete one of your analyses")
def analysis_delete(request, analysis_id: str):
    """Delete one of the token account's analyses and its kept audio."""
    analysis = _owned_one(request, analysis_id)
    analysis.delete()
    return 200, {"deleted": analysis_id}


@api.get("/model", response={200: ModelOut, 503: ErrorOut}, url_name="model",
         summary="Model metadata and figures")
def model(request):
    """Emotions, training-data summary and speaker-independent evaluation of the loaded model."""
    try:
        return 200, services.model_info()
    except ModelError as exc:
        return 503, {"error": str(exc)}


# ----------------------------------------------------------------------------- voice profiles

class ProfileIn(Schema):
    name: str = Field("My voice", max_length=64)


class ProfileOut(Schema):
    id: str
    name: str
    clips: int = Field(description="clips of the speaker the statistics hold")
    seconds: float = Field(description="seconds of speech they came from")
    learn: bool = Field(description="whether the account's later analyses add to it (set on "
                                    "the web page)")
    enough_clips: int = Field(description="clips measured to be enough for a good adaptation")
    progress: float = Field(description="clips / enough_clips, at most 1")
    created_at: str
    updated_at: str


class ProfileListOut(Schema):
    count: int
    items: list[ProfileOut]


def _owned_profile(request, profile_id):
    try:
        uid = uuid.UUID(profile_id)
    except ValueError:
        uid = None
    found = profiles.owned(api_owner(request)).filter(uid=uid).first() if uid else None
    if found is None:
        raise Http404(f"You have no voice profile with id {profile_id}.")
    return found


@api.get("/profiles", response={200: ProfileListOut, 401: ErrorOut}, auth=token_auth,
         summary="Your voice profiles")
def profile_list(request):
    """The token account's voice profiles (feature statistics of a speaker, never audio),
    most recently changed first."""
    rows = list(profiles.owned(api_owner(request)))
    return 200, {"count": len(rows), "items": [profiles.summary(p) for p in rows]}


@api.post("/profiles", response={201: ProfileOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
          auth=token_auth, summary="Create a voice profile")
def profile_create(request, body: ProfileIn):
    """A new, empty voice profile; add clips of the speaker to it with
    `POST /profiles/{id}/clips`."""
    try:
        return 201, profiles.summary(profiles.create(api_owner(request), body.name.strip()))
    except profiles.TooManyProfiles as exc:
        return 409, {"error": str(exc)}


@api.get("/profiles/{profile_id}", response={200: ProfileOut, 401: ErrorOut, 404: ErrorOut},
         auth=token_auth, summary="One of your voice profiles")
def profile_detail(request, profile_id: str):
    """One voice profile of the token account (404 if it is not theirs)."""
    return 200, profiles.summary(_owned_profile(request, profile_id))


@api.post("/profiles/{profile_id}/clips",
          response={200: ProfileOut, 404: ErrorOut, 409: ErrorOut, **ERRORS}, auth=token_auth,
          summary="Add a clip of the speaker to a voice profile")
def profile_add_clip(request, profile_id: str,
                     file: UploadedFile = File(..., description="a recording of the speaker")):
    """Measure one recording of the speaker and add its statistics to the profile; the audio
    is deleted right away. About 8 clips of a sentence each make a good profile."""
    refused = limits.check(request, "api", "SER_RATE_API")
    if refused:
        return refused
    profile = _owned_profile(request, profile_id)
    try:
        return 200, profiles.summary(profiles.add_clip(profile, file))
    except AudioError as exc:
        return uploads.status_for(exc), {"error": str(exc)}
    except ModelError as exc:
        return 503, {"error": str(exc)}
    except ProfileError as exc:
        return 409, {"error": str(exc)}


@api.post("/profiles/{profile_id}/reset", response={200: ProfileOut, 401: ErrorOut,
                                                    404: ErrorOut},
          auth=token_auth, summary="Forget the clips of a voice profile")
def profile_reset(request, profile_id: str):
    """Empty the profile's statistics (it keeps its id and name)."""
    return 200, profiles.summary(profiles.reset(_owned_profile(request, profile_id)))


@api.delete("/profiles/{profile_id}", response={200: DeletedOut, 401: ErrorOut, 404: ErrorOut},
            auth=token_auth, summary="Delete a voice profile")
def profile_delete(request, profile_id: str):
    """Delete one of the token account's voice profiles."""
    _owned_profile(request, profile_id).delete()
    return 200, {"deleted": profile_id}
