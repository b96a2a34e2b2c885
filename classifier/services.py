"""Service layer between views/commands and the ml package: model loading and analysis."""
import threading

from django.conf import settings

from ml import Predictor

_lock = threading.Lock()
_predictor = None


def get_predictor():
    """The process-wide Predictor for settings.SER_MODEL_PATH, loaded once (ModelError if bad)."""
    global _predictor
    if _predictor is None:
        with _lock:
            if _predictor is None:
                _predictor = Predictor.from_path(settings.SER_MODEL_PATH)
    return _predictor


def analyse(source):
    """Analyse a path or binary file object; returns ml.Prediction or raises AudioError."""
    return get_predictor().predict_file(source)
