"""Live mode in a real browser: headless Chromium whose fake microphone loops a RAVDESS clip
between long silences streams to the live server; the rolling timeline fills with emotions and
"silence", then the session is saved to the history."""
import re
import statistics

import numpy as np
import pytest
import soundfile as sf

from classifier.models import Analysis
from tests.audio_factory import speech
from tests.browser import launch_chromium, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SILENCE_S = 3.0
WATCH = """() => {
    window.liveUpdates = [];
    new MutationObserver(() => window.liveUpdates.push(performance.now()))
        .observe(document.getElementById("live-timeline"), {childList: true});
}"""


@pytest.fixture(scope="module")
def speech_and_silence_wav(tmp_path_factory):
    """48 kHz WAV: 3 s of silence, a clip (actor 01, angry), 3 s of silence (looped by Chromium)."""
    rate = 48000
    gap = np.zeros(int(SILENCE_S * rate), np.float32)
    path = tmp_path_factory.mktemp("live") / "speech-and-silence.wav"
    sf.write(str(path), np.concatenate([gap, speech(rate, 1, actor=1, emotion=5)[:, 0], gap]),
             rate, subtype="PCM_16")
    return str(path)


@pytest.fixture
def live_page(playwright_session, live_server, speech_and_silence_wav):
    browser = launch_chromium(playwright_session, speech_and_silence_wav)
    page = browser.new_page(base_url=live_server.url)
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    yield page
    browser.close()
    assert not errors, f"JavaScript errors: {errors}"


def emotions(page):
    return page.eval_on_selector_all("#live-timeline li", "els => els.map(e => e.dataset.emotion)")


def test_live_timeline_fills_and_saves(live_page):
    page = live_page
    page.goto("/")
    page.evaluate(WATCH)
    page.click("#live-start")
    page.wait_for_function(
        """() => { const e = [...document.querySelectorAll('#live-timeline li')]
                     .map(li => li.dataset.emotion);
                   return e.includes('silence') && e.some(x => x !== 'silence'); }""",
        timeout=30_000)
    page.wait_for_function("() => window.liveUpdates.length >= 8")
    seen = emotions(page)
    assert all(re.fullmatch(r"[a-z]+", e) for e in seen)
    updates = page.evaluate("window.liveUpdates")
    gaps = np.diff(updates) / 1000
    assert statistics.median(gaps) <= 1.0          # at least one update a second
    times = page.eval_on_selector_all("#live-timeline li .t", "els => els.map(e => e.textContent)")
    ends = [float(re.search(r"–([\d.]+) s", t).group(1)) for t in times]
    assert all(0 < b - a <= 1.0 for a, b in zip(ends, ends[1:]))   # each covers the newest audio
    assert page.locator("#live-now").text_content() in seen
    screenshot(page, "home-live")

    page.click("#live-stop")
    page.wait_for_selector("#live-after:not([hidden])")
    page.click("#live-save")
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/"))
    analysis = Analysis.objects.get()
    assert analysis.source == Analysis.Source.LIVE
    assert "Live mode" in page.content()
