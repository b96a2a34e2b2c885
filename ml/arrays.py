"""Small array helpers shared by audio loading, features and pictures (numpy only)."""
import math
from functools import lru_cache

import numpy as np


def percentiles(m, qs):
    """Linear-interpolated percentiles qs (0-100) of each row of m [rows, n] (as np.percentile,
    without its overhead): one sort; returns [rows, len(qs)]."""
    s = np.sort(m, axis=1)
    pos = np.asarray(qs, dtype=np.float64) / 100 * (m.shape[1] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, m.shape[1] - 1)
    frac = pos - lo
    return s[:, lo] * (1 - frac) + s[:, hi] * frac


def window_sums(values, width, hop, n_windows):
    """Sums of values[s:s + width] for s = 0, hop, 2 hop, ... (n_windows of them; values must
    reach the last window's end), from totals over blocks of gcd(width, hop) values: one pass,
    no per-sample running sum."""
    block = math.gcd(width, hop)
    n_blocks = len(values) // block
    totals = values[:n_blocks * block].reshape(n_blocks, block).sum(axis=1)
    totals = np.concatenate([[0], np.cumsum(totals)])
    first = np.arange(n_windows) * (hop // block)
    return totals[first + width // block] - totals[first]


def frame_levels_db(y, width, hop, chunk=1 << 20):
    """RMS level in dBFS of y[s:s + width] for s = 0, hop, 2 hop, ... (y shorter than width is
    zero-padded to one window). Squares are summed in float64 per block of gcd(width, hop)
    samples, chunk samples at a time: memory is a small fraction of y's, whatever its length."""
    if len(y) < width:
        y = np.pad(y, (0, width - len(y)))
    block = math.gcd(width, hop)
    usable = len(y) // block * block
    totals = np.zeros(usable // block + 1)
    step = max(chunk // block, 1) * block
    for start in range(0, usable, step):
        part = np.asarray(y[start:min(start + step, usable)], dtype=np.float64)
        totals[1 + start // block:1 + (start + len(part)) // block] = \
            np.square(part).reshape(-1, block).sum(axis=1)
    np.cumsum(totals, out=totals)
    first = np.arange((len(y) - width) // hop + 1) * (hop // block)
    energy = np.maximum(totals[first + width // block] - totals[first], 0) / width
    return 20 * np.log10(np.maximum(np.sqrt(energy), 1e-10))


@lru_cache(maxsize=64)
def hanning(n, dtype=np.float64):
    """np.hanning(n) in dtype, computed once per length."""
    return np.hanning(n).astype(dtype)
