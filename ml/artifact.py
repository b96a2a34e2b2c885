"""The model artifact: emotion and gender pipelines plus metadata in ONE pickled file.

Layout on disk (joblib): {"format": FORMAT, "metadata": {...}, "payload": bytes} where payload is
the pickled {"emotion": Pipeline, "gender": Pipeline} and metadata["content_hash"] is its SHA-256.
Loading verifies the hash and library versions before unpickling the payload.
"""
import hashlib
import io
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

import joblib
import numpy as np
import sklearn

from .errors import ModelError

FORMAT = "ser-model/1"
DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(__file__), "models", "default.joblib")


def library_versions():
    """Versions of the libraries whose behaviour the artifact depends on."""
    import librosa
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "librosa": librosa.__version__, "joblib": joblib.__version__}


@dataclass
class Artifact:
    """A trained emotion pipeline, a gender pipeline and the metadata describing them."""
    emotion_model: object
    gender_model: object
    metadata: dict = field(default_factory=dict)

    @property
    def emotions(self):
        """The emotion labels in the order of the model's probability columns."""
        return [str(c) for c in self.emotion_model.classes_]


def _minor(version):
    return ".".join(str(version).split(".")[:2])


def save(artifact, path):
    """Write the artifact atomically (temp file in the same folder, then rename); return metadata."""
    payload = pickle.dumps({"emotion": artifact.emotion_model, "gender": artifact.gender_model},
                           protocol=pickle.HIGHEST_PROTOCOL)
    metadata = dict(artifact.metadata)
    metadata.update(format=FORMAT, libraries=library_versions(),
                    content_hash=hashlib.sha256(payload).hexdigest(),
                    created_at=metadata.get("created_at")
                    or datetime.now(timezone.utc).isoformat(timespec="seconds"))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            joblib.dump({"format": FORMAT, "metadata": metadata, "payload": payload}, f,
                        compress=3)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    artifact.metadata = metadata
    return metadata


def read_metadata(path):
    """The metadata of the artifact at path, checked for format and library versions."""
    return _read(path)[0]


def _read(path):
    if not os.path.exists(path):
        raise ModelError(f"No model file at {path}. Train one with "
                         f"`python manage.py train_model --data PATH`.")
    try:
        with open(path, "rb") as f:
            outer = joblib.load(io.BytesIO(f.read()))
    except Exception as exc:
        raise ModelError(f"The model file {path} is corrupt or not a model ({type(exc).__name__})."
                         f" Retrain it with `python manage.py train_model`.") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise ModelError(f"{path} is not a model file of format {FORMAT}.")
    metadata, payload = outer["metadata"], outer["payload"]
    if hashlib.sha256(payload).hexdigest() != metadata.get("content_hash"):
        raise ModelError(f"The model file {path} is corrupt (content hash mismatch). "
                         f"Retrain it with `python manage.py train_model`.")
    trained = metadata.get("libraries", {}).get("scikit-learn", "?")
    if _minor(trained) != _minor(sklearn.__version__):
        raise ModelError(f"The model at {path} was trained with scikit-learn {trained}, but "
                         f"{sklearn.__version__} is installed. Install scikit-learn=={trained} "
                         f"(see requirements.txt) or retrain with `python manage.py train_model`.")
    return metadata, payload


def load(path=DEFAULT_MODEL_PATH):
    """Load and verify an artifact; raises ModelError with a clear message on any problem."""
    metadata, payload = _read(path)
    try:
        models = pickle.loads(payload)
    except Exception as exc:
        raise ModelError(f"The model file {path} could not be unpickled ({exc}). "
                         f"Retrain it with `python manage.py train_model`.") from None
    return Artifact(models["emotion"], models["gender"], metadata)
