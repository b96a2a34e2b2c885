"""The model artifact: emotion and gender pipelines, their calibration and metadata in ONE file.

Layout on disk (zlib-compressed pickle): {"format": FORMAT, "metadata": {...}, "payload": bytes,
"inference": bytes}. payload is the pickled {"emotion": Pipeline, "gender": Pipeline,
"calibration": {"emotion": TemperatureScaling, "gender": TemperatureScaling}}; inference is the
pickled numpy-only form of the same (ml.inference): {"emotion": form, "gender": form,
"calibration": {"emotion": {"method": "temperature", "temperature": T}, "gender": {...}}}, which
is what predicting uses, so loading a model for prediction never imports scikit-learn. A head
without a calibration entry is used as it is (artifacts from before calibration). metadata holds the
SHA-256 of both (content_hash, inference_hash). Both may also hold "adapted", the speaker-adapted
emotion model (ml.adapt), used when speaker statistics exist, with its own calibration entry.
Loading verifies the hashes and the library versions; the pipelines are unpickled only when
something asks for them (training, tests).
"""
import hashlib
import os
import pickle
import tempfile
import zlib
from datetime import datetime, timezone
from importlib.metadata import version

from . import inference
from .errors import ModelError

FORMAT = "ser-model/2"
DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(__file__), "models", "default.pkl")


def library_versions():
    """Versions of the libraries whose behaviour the artifact depends on."""
    return {name: version(name) for name in ("scikit-learn", "numpy", "librosa", "joblib")}


class Artifact:
    """A trained emotion pipeline, a gender pipeline, their calibration and the metadata
    describing them. calibration: {"emotion": fitted TemperatureScaling, "gender": ...}
    (either may be missing: that head's probabilities are used uncalibrated)."""

    def __init__(self, emotion_model, gender_model, metadata=None, calibration=None,
                 adapted=None):
        calibration = dict(calibration or {})
        self._pipelines = {"emotion": emotion_model, "gender": gender_model,
                           "calibration": calibration}
        self.metadata = dict(metadata or {})
        self.inference = {name: inference.from_pipeline(model)
                          for name, model in (("emotion", emotion_model),
                                              ("gender", gender_model))}
        self.inference["calibration"] = {name: scaler.form()
                                         for name, scaler in calibration.items()}
        if adapted is not None:  # the speaker-adapted emotion model (ml.adapt.AdaptedModel)
            self._pipelines["adapted"] = adapted
            self.inference["adapted"] = adapted.inference_form()

    @classmethod
    def _from_file(cls, metadata, payload, inference_form, path):
        artifact = cls.__new__(cls)
        artifact._pipelines, artifact._payload, artifact._path = None, payload, path
        artifact.metadata, artifact.inference = metadata, inference_form
        return artifact

    def _models(self):
        if self._pipelines is None:
            try:
                self._pipelines = pickle.loads(self._payload)
            except Exception as exc:
                raise ModelError(f"The model file {self._path} could not be unpickled ({exc}). "
                                 f"Retrain it with `python manage.py train_model`.") from None
        return self._pipelines

    @property
    def emotion_model(self):
        """The scikit-learn emotion Pipeline (unpickled on first use)."""
        return self._models()["emotion"]

    @property
    def gender_model(self):
        """The scikit-learn gender Pipeline (unpickled on first use)."""
        return self._models()["gender"]

    @property
    def adapted_model(self):
        """The speaker-adapted model (ml.adapt.AdaptedModel), or None if it has none."""
        return self._models().get("adapted")

    @property
    def calibration(self):
        """{"emotion": TemperatureScaling, "gender": ...} as fitted (unpickled on first use)."""
        return self._models().get("calibration", {})

    def calibration_form(self, name):
        """The numpy-only calibration of head `name` ("emotion", "gender", "adapted"), or None."""
        return self.inference.get("calibration", {}).get(name)

    @property
    def emotions(self):
        """The emotion labels in the order of the model's probability columns."""
        return list(self.inference["emotion"]["classes"])


def _minor(version):
    return ".".join(str(version).split(".")[:2])


def _dumps(obj):
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def save(artifact, path):
    """Write the artifact atomically (temp file in the same folder, then rename); return metadata."""
    payload = _dumps(artifact._models())
    inference_payload = _dumps(artifact.inference)
    metadata = dict(artifact.metadata)
    metadata.update(format=FORMAT, libraries=library_versions(),
                    content_hash=hashlib.sha256(payload).hexdigest(),
                    inference_hash=hashlib.sha256(inference_payload).hexdigest(),
                    created_at=metadata.get("created_at")
                    or datetime.now(timezone.utc).isoformat(timespec="seconds"))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(zlib.compress(_dumps({"format": FORMAT, "metadata": metadata,
                                          "payload": payload, "inference": inference_payload}),
                                  6))
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
            outer = pickle.loads(zlib.decompress(f.read()))
    except Exception as exc:
        raise ModelError(f"The model file {path} is corrupt or not a model ({type(exc).__name__})."
                         f" Retrain it with `python manage.py train_model`.") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise ModelError(f"{path} is not a model file of format {FORMAT}. Retrain it with "
                         f"`python manage.py train_model`.")
    metadata = outer["metadata"]
    for key, digest in (("payload", "content_hash"), ("inference", "inference_hash")):
        if hashlib.sha256(outer[key]).hexdigest() != metadata.get(digest):
            raise ModelError(f"The model file {path} is corrupt (content hash mismatch). "
                             f"Retrain it with `python manage.py train_model`.")
    trained = metadata.get("libraries", {}).get("scikit-learn", "?")
    installed = version("scikit-learn")
    if _minor(trained) != _minor(installed):
        raise ModelError(f"The model at {path} was trained with scikit-learn {trained}, but "
                         f"{installed} is installed. Install scikit-learn=={trained} "
                         f"(see requirements.txt) or retrain with `python manage.py train_model`.")
    return metadata, outer


def load(path=DEFAULT_MODEL_PATH):
    """Load and verify an artifact; raises ModelError with a clear message on any problem."""
    metadata, outer = _read(path)
    try:
        form = pickle.loads(outer["inference"])
    except Exception as exc:
        raise ModelError(f"The model file {path} could not be unpickled ({exc}). "
                         f"Retrain it with `python manage.py train_model`.") from None
    return Artifact._from_file(metadata, outer["payload"], form, path)
