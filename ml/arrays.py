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


@lru_cache(maxsize=64)
def hanning(n, dtype=np.float64):
    """np.hanning(n) in dtype, computed once per length."""
    return np.hanning(n).astype(dtype)
