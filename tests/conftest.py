import pytest

from tests.audio_factory import DATA_DIR


@pytest.fixture(scope="session")
def data_dir():
    """The shared RAVDESS copy (16 kHz, actors 01-20)."""
    return DATA_DIR


# Browser fixtures are defined once, here: a session-scoped fixture imported into several test
# modules would start a second Playwright driver, which the sync API refuses.
from tests.browser import chromium, fake_mic_wav, playwright_session, web_page  # noqa: E402,F401
