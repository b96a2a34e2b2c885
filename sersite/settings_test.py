"""Settings for the test suite: the production settings (DEBUG off, CSP, limits) with a
throwaway secret key, served over plain HTTP on localhost, static files found without
collectstatic (tests/test_deploy.py checks collectstatic and the manifest storage separately)."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")

from .settings import *  # noqa: E402,F401,F403
from .settings import STORAGES  # noqa: E402

STORAGES = {**STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
