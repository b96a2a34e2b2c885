"""WSGI entry point (gunicorn sersite.wsgi): the model is loaded once, at start (in gunicorn's
master, before it forks the workers: gunicorn.conf.py preload_app), and the server refuses to
start (exit status 3, one CRITICAL log line) if the artifact is unusable."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sersite.settings")
application = get_wsgi_application()

from classifier.health import load_model_or_exit  # noqa: E402  (needs Django set up)

load_model_or_exit()
