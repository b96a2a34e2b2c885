import pytest

from tests.audio_factory import DATA_DIR


@pytest.fixture(autouse=True)
def no_strikes():
    """Every test starts with no refused uploads counted against its address."""
    from classifier import strikes
    strikes._refused.clear()


@pytest.fixture(scope="session")
def data_dir():
    """The shared RAVDESS copy (16 kHz, actors 01-20)."""
    return DATA_DIR


# Session-scoped fixtures shared by several modules are registered once, here: imported into
# each module they would be set up once per module (a second Playwright driver, which the sync
# API refuses; a second PulseAudio daemon).
from tests.browser import chromium, fake_mic_wav, playwright_session, web_page  # noqa: E402,F401
from tests.pulse import pulse, sentence  # noqa: E402,F401
