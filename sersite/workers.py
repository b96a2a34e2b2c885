"""gunicorn worker class of the Procfile's web process (gunicorn.conf.py: worker_class)."""
from gunicorn.workers.gthread import ThreadWorker

from .deadlines import Watched, serving, watchdog


class DeadlineWorker(ThreadWorker):
    """gunicorn's gthread worker with a deadline on receiving every request (sersite.deadlines):
    a client that sends its request too slowly is disconnected instead of holding a thread."""

    def enqueue_req(self, conn):
        if not isinstance(conn.sock, Watched):
            conn.sock = Watched(conn.sock)
        watchdog.watch(conn.sock)   # from the moment it waits for a thread
        super().enqueue_req(conn)

    def handle(self, conn):
        serving(conn.sock)
        try:
            return super().handle(conn)
        finally:
            serving(None)
            watchdog.forget(conn.sock)
