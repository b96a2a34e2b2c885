"""Speech emotion recognition core: audio loading, features, training, the model artifact.

Django-free; usable on its own:

    from ml import Predictor
    print(Predictor.from_path().predict_file("clip.wav").to_dict())
"""
from .artifact import DEFAULT_MODEL_PATH, Artifact
from .audio import SAMPLE_RATE, Audio, load_audio
from .errors import AudioError, DatasetError, ModelError
from .predict import Prediction, Predictor

__all__ = ["DEFAULT_MODEL_PATH", "SAMPLE_RATE", "Artifact", "Audio", "AudioError",
           "DatasetError", "ModelError", "Prediction", "Predictor", "load_audio"]
