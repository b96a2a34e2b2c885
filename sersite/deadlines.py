"""Deadlines for receiving a request, so that slow clients cannot hold worker threads.

gunicorn's gthread worker reads a request's headers and body in a worker thread with blocking
socket reads and no time limit: a client sending one byte a second holds the thread for as long
as it likes. sersite.workers.DeadlineWorker wraps every connection's socket in a Watched socket
from the moment it is queued for a thread. Until the request has been received, a connection
must keep up a minimum average rate: by t seconds after it was queued it must have sent
SER_MIN_UPLOAD_BYTES_PER_S x (t - SER_HEADER_TIMEOUT_S) bytes (so: headers within the grace
of SER_HEADER_TIMEOUT_S seconds, then at least that many bytes a second); bytes waiting unread
in the kernel count as sent (a connection queued behind busy threads is not slow). Once
UploadLimitMiddleware has read the body, the deadline becomes fixed: SER_ANALYSIS_TIMEOUT_S +
RESPONSE_S for the work and the answer. One watchdog thread per worker process shuts down the
socket of any connection past its deadline: the blocked read returns, the request ends and the
thread is free again.

Outside that worker (runserver, the test client) no connection is watched and received() does
nothing.
"""
import fcntl
import logging
import os
import socket
import struct
import termios
import threading
import time

log = logging.getLogger(__name__)

RESPONSE_S = 30.0   # after the analysis deadline, time to write the answer
TICK_S = 0.25       # how often the watchdog looks


def grace_s():
    """Seconds a client gets before it must keep up the minimum rate (its headers' time)."""
    return float(os.environ.get("SER_HEADER_TIMEOUT_S", "10"))


def min_rate():
    """Bytes per second a client must average while sending its request."""
    return float(os.environ.get("SER_MIN_UPLOAD_BYTES_PER_S", str(16 * 1024)))


class Watched:
    """A socket that counts the bytes it receives (everything else is the socket's own)."""

    def __init__(self, sock):
        self._sock = sock
        self.received = 0
        self.since = time.monotonic()
        self.fixed_deadline = None   # set once the request has been received

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def recv(self, *args):
        data = self._sock.recv(*args)
        self.received += len(data)
        return data

    def restart(self):
        """Start watching a new request on this connection."""
        self.received, self.since, self.fixed_deadline = 0, time.monotonic(), None

    def deadline(self, pending=0):
        """The time.monotonic() after which this connection is cut (counting pending bytes the
        client sent that the server has not read yet)."""
        if self.fixed_deadline is not None:
            return self.fixed_deadline
        return self.since + grace_s() + (self.received + pending) / min_rate()

    def pending(self):
        """Bytes the client has sent that wait unread in the kernel (a connection queued behind
        busy threads is not slow: the server is)."""
        try:
            return struct.unpack("i", fcntl.ioctl(self._sock.fileno(), termios.FIONREAD,
                                                  b"\0\0\0\0"))[0]
        except OSError:
            return 0


class Watchdog:
    """Shuts down the watched sockets that are past their deadline."""

    def __init__(self):
        self._watched = set()
        self._lock = threading.Lock()
        self._thread = None

    def watch(self, sock):
        """Start (or restart) watching sock for a new request."""
        sock.restart()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines",
                                                daemon=True)
                self._thread.start()
            self._watched.add(sock)

    def forget(self, sock):
        """Stop watching sock (its request is over)."""
        with self._lock:
            self._watched.discard(sock)

    def _run(self):
        while True:
            time.sleep(TICK_S)
            now = time.monotonic()
            with self._lock:
                late = [s for s in self._watched
                        if s.deadline() < now and s.deadline(s.pending()) < now]
                self._watched.difference_update(late)
            for sock in late:
                log.warning("Closing a connection that missed its deadline (slow client, "
                            "%d bytes in %.1f s)", sock.received, now - sock.since)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass   # already closed


watchdog = Watchdog()
_current = threading.local()   # the Watched connection this thread is serving, if any


def serving(sock):
    """Mark sock as the connection this thread serves (None: no longer serving one)."""
    _current.sock = sock


def received(seconds):
    """The request has been received: this thread's connection now has seconds to finish."""
    sock = getattr(_current, "sock", None)
    if sock is not None:
        sock.fixed_deadline = time.monotonic() + seconds
