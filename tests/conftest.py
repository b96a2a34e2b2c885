import pytest

from tests.audio_factory import DATA_DIR


@pytest.fixture(scope="session")
def data_dir():
    """The shared RAVDESS copy (16 kHz, actors 01-20)."""
    return DATA_DIR
