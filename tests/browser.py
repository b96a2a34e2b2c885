"""Shared real-browser helpers: headless Debian Chromium driven by Playwright against
pytest-django's live server, with a fake microphone playing a RAVDESS clip.

The fixtures are registered once in tests/conftest.py; a test module only needs:

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_something(web_page):
        web_page.goto("/")

`web_page` is a fresh browser context/page whose relative URLs go to the live server; the
browser's fake microphone plays `fake_mic_wav` in a loop. `launch_chromium(playwright, wav)`
starts another browser (e.g. with a different fake-microphone file, or `fake_ui=False` to see
the microphone refused). Without Chromium the tests skip — except in CI (CI=true), where they fail.
"""
import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio_factory import speech

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run
# in the test body ("async unsafe") without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 30_000
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FAKE_MIC_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def require_chromium():
    """Skip (or, in CI, fail) when Debian's Chromium is not installed."""
    if os.access(CHROMIUM, os.X_OK):
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def chromium_args(fake_audio=None, fake_ui=True):
    """Command-line flags: the shared base flags, the fake microphone (fed from fake_audio)
    and, with fake_ui, microphone permission granted without a prompt."""
    args = list(BASE_ARGS)
    if fake_ui:
        args += FAKE_MIC_ARGS
        if fake_audio:
            args.append(f"--use-file-for-fake-audio-capture={fake_audio}")
    else:
        args.append("--use-fake-device-for-media-stream")
    return args


def launch_chromium(playwright, fake_audio=None, fake_ui=True):
    """A headless Chromium browser (close it when done)."""
    require_chromium()
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=chromium_args(fake_audio, fake_ui))


def sign_up(page, username, password="a good long passphrase"):
    """Fill and send the sign-up form already open in page; waits for the account page."""
    page.fill("#id_username", username)
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)
    page.click("#sign-up-form button[type=submit]")
    page.wait_for_url(re.compile(r"/account/$"))


def screenshot(page, name):
    """Save a full-page PNG as tests/artifacts/<name>.png (git-ignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def fake_mic_wav(tmp_path_factory):
    """A 48 kHz 16-bit mono WAV of a RAVDESS clip (actor 01, angry) between short silences."""
    path = tmp_path_factory.mktemp("mic") / "speech.wav"
    rate = 48000
    y = speech(rate, 1, actor=1, emotion=5)[:, 0]
    gap = np.zeros(rate // 2, np.float32)
    sf.write(str(path), np.concatenate([gap, y, gap]), rate, subtype="PCM_16")
    return str(path)


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the session."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_session, fake_mic_wav):
    """The shared headless Chromium with a fake microphone playing fake_mic_wav."""
    browser = launch_chromium(playwright_session, fake_mic_wav)
    yield browser
    browser.close()


@pytest.fixture
def web_page(chromium, live_server):
    """A fresh page (own cookies and storage) on the live server; fails the test on JS errors."""
    context = chromium.new_context(base_url=live_server.url,
                                   viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
