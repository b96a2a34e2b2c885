"""Repeat offenders: an address whose uploads keep being refused by the decoder (bombs, junk,
files over the limits; not recordings that merely hold no speech) is answered 429 for a while,
after a short pause and without its body being read, so a client looping hostile uploads costs
the server almost nothing and cannot crowd out others.

Counted per worker process, in memory (no shared store to write on every refusal): with W
workers an address is held back after about W x settings.SER_REFUSALS_PER_MINUTE refusals at
worst, and for a minute after its last one.
"""
import threading
import time
from collections import defaultdict, deque

from django.conf import settings

WINDOW_S = 60.0
PAUSE_S = 0.25         # a held-back request is answered after this pause (slows a loop down)
MAX_ADDRESSES = 10000  # memory bound: the oldest addresses are forgotten beyond this

_lock = threading.Lock()
_refused = defaultdict(deque)   # address -> times of its recent refusals
_request = threading.local()    # .refused: this thread's current upload was refused


def refused_upload():
    """Mark the upload this thread is handling as refused by the decoder (see take())."""
    _request.refused = True


def take():
    """Whether this thread's upload was marked refused since the last call (and unmark it)."""
    marked, _request.refused = getattr(_request, "refused", False), False
    return marked


def record(request):
    """Count one refused upload against the request's address."""
    from .limits import client_ip   # limits imports uploads, which uses this module
    now, address = time.monotonic(), client_ip(request)
    with _lock:
        times = _refused[address]
        times.append(now)
        while times and times[0] < now - WINDOW_S:
            times.popleft()
        if len(_refused) > MAX_ADDRESSES:
            _refused.pop(next(iter(_refused)))


def held_back(request):
    """True when the request's address had too many uploads refused within the last minute."""
    from .limits import client_ip
    now = time.monotonic()
    with _lock:
        times = _refused.get(client_ip(request))
        return bool(times) and times[-1] > now - WINDOW_S and \
            len(times) >= settings.SER_REFUSALS_PER_MINUTE
