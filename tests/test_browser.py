"""Real browser (headless Debian Chromium via Playwright): upload, record with the fake
microphone, history; screenshots of the pages go to tests/artifacts/."""
import base64
import re

import pytest

from classifier.models import Analysis
from ml.dataset import EMOTIONS
from tests.audio_factory import clip_path
from tests.browser import launch_chromium, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

EMOTION_RE = re.compile("({0})( or ({1}))?".format("|".join(e.capitalize() for e in EMOTIONS),
                                                  "|".join(EMOTIONS)))
CONFIDENCE_RE = re.compile(r"\d+% confident|Uncertain: [a-z]+ \d+%, [a-z]+ \d+%")
DURATION_JS = """a => new Promise(resolve => {
    if (a.readyState >= 1) resolve(a.duration);
    else a.onloadedmetadata = () => resolve(a.duration);
})"""


def expect_result(page):
    """Wait for the result shown in place, open its permalink and assert that it is a complete
    result page; return the emotion shown."""
    page.wait_for_selector("#result-panel:not([hidden]) #emotion")
    in_place = page.locator("#result-panel #emotion").inner_text()
    page.click("#permalink")
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/"))
    assert page.locator("#emotion").inner_text() == in_place
    emotion = page.locator("#emotion").inner_text()
    assert EMOTION_RE.fullmatch(emotion)
    assert page.locator("#bars meter").count() == len(EMOTIONS)
    assert CONFIDENCE_RE.fullmatch(page.locator("#confidence").inner_text())
    for img in page.locator("figure img").all():  # the plots loaded
        assert img.evaluate("i => i.complete && i.naturalWidth > 100")
    return emotion


def record(page, seconds=3.5):
    page.click("#rec-start")
    page.wait_for_function("() => document.getElementById('rec-level').value > 0.2")
    page.wait_for_timeout(seconds * 1000)
    assert 3 <= int(page.locator("#rec-timer").inner_text().split(":")[1]) < 10
    page.click("#rec-stop")
    page.wait_for_selector("#record-form:not([hidden])")


def test_upload_shows_emotion_bars_plots_and_player(web_page):
    page = web_page
    page.goto("/")
    page.set_input_files("#file", clip_path(1, 5))
    assert "03-01-05-02-01-01-01.wav" in page.locator("#file-name").inner_text()
    screenshot(page, "home")
    page.click("#upload-form button[type=submit]")
    emotion = expect_result(page)
    a = Analysis.objects.get()
    assert emotion.lower() == a.emotion and a.source == "upload" and not a.audio
    # The server kept no audio; the player plays the browser's own copy of the clip.
    page.wait_for_selector("#local-audio:not([hidden])")
    assert page.locator("#local-audio").get_attribute("src").startswith("blob:")
    screenshot(page, "result")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= 390")  # no sideways scrolling
    screenshot(page, "result-phone")


def test_record_then_drop_a_file_then_history_lists_both(web_page):
    page = web_page
    page.goto("/")
    record(page)
    assert page.locator("#rec-playback").get_attribute("src").startswith("blob:")
    duration = page.locator("#rec-playback").evaluate(DURATION_JS)
    assert 3 < duration < 10
    # one primary action: the take waiting to be analysed, not the empty upload form's button
    assert page.locator("form[data-clip-form] button.primary").all_inner_texts() == \
        ["Analyse recording"]
    screenshot(page, "home-recorded")
    page.check("#keep-record")
    page.click("#rec-analyse")
    expect_result(page)
    recorded = Analysis.objects.get()
    assert recorded.source == "record" and recorded.audio  # kept, as ticked
    assert recorded.gender == "male"
    player = page.locator("audio[src$='/audio']")
    assert player.evaluate(DURATION_JS) > 1

    page.goto("/")  # drag and drop a clip onto the drop zone
    data = base64.b64encode(open(clip_path(2, 3), "rb").read()).decode()
    transfer = page.evaluate_handle("""data => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const t = new DataTransfer();
        t.items.add(new File([bytes], 'dropped.wav', {type: 'audio/wav'}));
        return t;
    }""", data)
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    assert "dropped.wav" in page.locator("#file-name").inner_text()
    page.click("#upload-form button[type=submit]")
    expect_result(page)

    page.click("nav >> text=History")
    rows = page.locator("#history tbody tr")
    assert rows.count() == 2
    assert "Upload" in rows.nth(0).inner_text() and "Recording" in rows.nth(1).inner_text()
    assert "kept" in rows.nth(1).inner_text()
    screenshot(page, "history")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Delete all")
    page.wait_for_selector("#empty")
    assert not Analysis.objects.exists()


def test_refused_microphone_gives_a_clear_message(playwright_session, live_server):
    browser = launch_chromium(playwright_session, fake_ui=False)
    try:
        page = browser.new_page(base_url=live_server.url)
        page.goto("/")
        page.click("#rec-start")
        status = page.locator("#rec-status")
        page.wait_for_function("() => /denied|found|busy|could not/.test("
                               "document.getElementById('rec-status').textContent)")
        assert "denied" in status.inner_text() and "upload" in status.inner_text()
        assert page.locator("#file").is_enabled()
        screenshot(page, "home-mic-denied")
    finally:
        browser.close()


def test_upload_error_is_readable(web_page, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("these are not sounds")
    web_page.goto("/")
    web_page.set_input_files("#file", str(bad))
    web_page.click("#upload-form button[type=submit]")
    web_page.wait_for_selector("#upload-error:not([hidden])")
    alert = web_page.locator("#upload-error")
    assert "Unrecognised" in alert.inner_text()
    web_page.js_errors.clear()  # the 400 response itself is logged by the browser console


def test_keyboard_can_reach_the_controls(web_page):
    web_page.goto("/")
    reached = []
    for _ in range(45):
        web_page.keyboard.press("Tab")
        reached.append(web_page.evaluate(
            "document.activeElement.id || document.activeElement.textContent.trim()"))
    for control in ("file", "keep-upload", "Analyse file", "rec-start"):
        assert control in reached, reached


def test_model_page_and_api_docs_render_from_local_assets(web_page):
    page = web_page
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/model/")
    assert page.locator("#figures").inner_text().count("%") >= 3
    assert page.locator("#confusion tbody tr").count() == len(EMOTIONS)
    screenshot(page, "model")
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert "/api/predict" in page.locator(".swagger-ui").inner_text()
    screenshot(page, "api-docs")
    origin = page.url.split("/api/")[0]
    assert all(url.startswith((origin, "data:", "blob:")) for url in requests), requests


def test_recording_stops_by_itself_at_the_maximum(web_page):
    page = web_page
    page.goto("/")
    assert page.get_attribute("#recorder", "data-max-seconds") == "30"
    page.locator("#recorder").evaluate("s => { s.dataset.maxSeconds = '2'; }")  # not 30 s here
    page.click("#rec-start")
    page.wait_for_selector("#record-form:not([hidden])", timeout=10_000)
    assert "Stopped at the 2 s maximum" in page.locator("#rec-status").inner_text()
    assert page.locator("#rec-timer").inner_text() == "0:02"
    assert page.locator("#rec-stop").is_disabled() and page.locator("#rec-start").is_enabled()
