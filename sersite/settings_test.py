"""Settings for the test suite: production settings with a throwaway secret key."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from .settings import *  # noqa: E402,F401,F403
