"""Process tuning for many small numerical jobs (one clip = a few arrays of 0.1-2 MB).

- One BLAS/OpenMP thread. Feature matrices and the MLPs are small; a second BLAS thread only
  spins and contends with the other worker processes. Measured on the 2-core target machine
  under load: an MLP fit ran 10-20x slower with 2 OpenBLAS threads than with 1. Parallelism
  comes from processes instead (joblib over clips and folds, gunicorn workers).
- Keep freed memory. With glibc's default (dynamic) thresholds each clip's arrays are mmap'ed or
  trimmed from the heap and page-faulted back in on the next clip, which costs more than the
  arithmetic (pitch tracking 3x slower). Raising the thresholds keeps that memory for reuse.
"""
import ctypes
import ctypes.util

from threadpoolctl import threadpool_limits

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD = 16 << 20   # give heap memory back only when 16 MB are free at its top
MMAP_THRESHOLD = 4 << 20    # arrays below 4 MB (a clip's are 0.1-2 MB) come from the heap


def keep_freed_memory():
    """Apply the glibc thresholds above; returns True if accepted (False without glibc)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def tune():
    """Single-threaded BLAS/OpenMP and allocator thresholds for this process."""
    threadpool_limits(limits=1)
    keep_freed_memory()
