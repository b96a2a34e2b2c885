"""`GET /healthz` for the platform's health checker, and the model check run at server start."""
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from . import services

logger = logging.getLogger(__name__)

# gunicorn's "worker failed to boot" code: the arbiter stops instead of respawning the worker.
BOOT_FAILURE_EXIT_CODE = 3


def load_model_or_exit():
    """Load the model into this process at start; on any problem log one clear line and exit
    (status 3) so the server refuses to start rather than failing every request."""
    try:
        predictor = services.get_predictor()
        predictor.warm_up()  # one dummy prediction now, so the first request is not slow
    except Exception as exc:  # ModelError, or an artifact that unpickles to the wrong thing
        logger.critical("Refusing to start: cannot load the model %s: %s",
                        settings.SER_MODEL_PATH, exc)
        raise SystemExit(BOOT_FAILURE_EXIT_CODE) from None
    meta = predictor.artifact.metadata
    logger.info("Model loaded from %s (hash %s, emotions: %s)", settings.SER_MODEL_PATH,
                meta.get("content_hash", "?")[:12], ", ".join(meta.get("emotions", [])))
    return predictor


def _model_ok():
    try:
        services.get_predictor()
    except Exception as exc:
        logger.error("Health check: model not loaded: %s", exc)
        return False
    return True


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("Health check: database unreachable: %s", exc)
        return False
    return True


@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """200 {"status": "ok", ...} when the model is loaded and the database answers, else 503."""
    model, database = _model_ok(), _database_ok()
    healthy = model and database
    return JsonResponse({"status": "ok" if healthy else "unavailable",
                         "model": "loaded" if model else "unavailable",
                         "database": "ok" if database else "unreachable"},
                        status=200 if healthy else 503)
