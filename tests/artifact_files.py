"""Read and write the raw outer dict of a model artifact file (to tamper with it in tests)."""
import pickle
import zlib


def read_outer(path):
    """The artifact file's outer dict (format, metadata, payload, inference)."""
    with open(path, "rb") as f:
        return pickle.loads(zlib.decompress(f.read()))


def write_outer(outer, path):
    """Write an outer dict as an artifact file; returns the path as a string."""
    with open(path, "wb") as f:
        f.write(zlib.compress(pickle.dumps(outer)))
    return str(path)
