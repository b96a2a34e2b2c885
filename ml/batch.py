"""Batch prediction over files and folders, one result dict per file, errors included."""
import os

from .dataset import AUDIO_EXTENSIONS
from .errors import AudioError


def expand_paths(paths):
    """Files as given plus audio files found recursively in given folders (sorted).

    A path that does not exist is kept, so the caller reports it as a failed file.
    """
    files = []
    for given in paths:
        if os.path.isdir(given):
            found = []
            for root, _, names in os.walk(given):
                found += [os.path.join(root, n) for n in names
                          if n.lower().endswith(AUDIO_EXTENSIONS)]
            files += sorted(found)
        else:
            files.append(given)
    return files


def predict_one(predictor, path):
    """{"file": path, ...prediction} or {"file": path, "error": message}; never raises."""
    if not os.path.isfile(path):
        return {"file": path, "error": "No such file."}
    try:
        return {"file": path, **predictor.predict_file(path).to_dict()}
    except AudioError as exc:
        return {"file": path, "error": str(exc)}
    except Exception as exc:  # a bad file must never stop the batch
        return {"file": path, "error": f"Could not analyse this file ({type(exc).__name__})."}
