"""The Content-Security-Policy in a real browser: every page, and recording in the page (the
microphone's AudioWorklet, blob: playback, upload, the kept-audio player) and Live mode, run
under the production headers with no CSP violation reported."""
import re

import pytest

from tests.browser import sign_up


pytestmark = pytest.mark.django_db(transaction=True)

# Runs before any page script (Playwright init scripts are not subject to the page's CSP).
WATCH = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
"""
PLAY = """a => a.play().then(() => new Promise(r => setTimeout(r, 300))).then(() => !a.paused)"""


@pytest.fixture
def page(web_page):
    """web_page (which already fails on console errors) recording CSP violation events."""
    web_page.add_init_script(WATCH)
    reported = []
    web_page.on("console", lambda m: "Content Security Policy" in m.text and reported.append(m.text))
    web_page.csp_console = reported
    return web_page


def assert_no_violations(page):
    assert page.evaluate("window.cspViolations") == [], page.url
    assert page.csp_console == [], page.url


@pytest.mark.parametrize("path", ["/", "/history/", "/model/", "/api/docs", "/mic/",
                                  "/account/sign-in", "/account/sign-up", "/voice/"])
def test_page_runs_under_the_csp(page, path, settings):
    settings.SER_SERVER_MIC = True   # the server-microphone page exists only when enabled
    response = page.goto(path)
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_load_state("networkidle")
    assert_no_violations(page)


def test_recording_playback_upload_and_live_mode_under_the_csp(page):
    page.goto("/")
    page.click("#rec-start")
    page.wait_for_function("() => document.getElementById('rec-level').value > 0.2")
    page.wait_for_timeout(3500)
    page.click("#rec-stop")
    page.wait_for_selector("#record-form:not([hidden])")
    playback = page.locator("#rec-playback")
    assert playback.get_attribute("src").startswith("blob:")
    assert playback.evaluate(PLAY)
    assert_no_violations(page)

    page.check("#keep-record")
    page.click("#rec-analyse")
    page.wait_for_selector("#result-panel:not([hidden]) #emotion")   # the result in place
    page.wait_for_function("() => [...document.querySelectorAll('#result-panel figure img')]"
                           ".every(i => i.complete && i.naturalWidth > 100)")
    assert_no_violations(page)
    page.click("#permalink")
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/"))
    page.wait_for_load_state("networkidle")
    for img in page.locator("figure img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 100")
    assert page.locator("audio[src$='/audio']").evaluate(PLAY)
    assert_no_violations(page)

    page.goto("/")
    page.click("#live-start")
    page.wait_for_function("() => document.querySelectorAll('#live-timeline li').length > 0",
                           timeout=30_000)
    page.click("#live-stop")
    assert_no_violations(page)


def test_account_token_and_share_pages_under_the_csp(page, settings, tmp_path):
    """Sign up, make an API token, keep a recording, share it with its audio and play it
    through the link in another browser context: all without a CSP violation."""
    from tests.audio_factory import clip_path
    settings.MEDIA_ROOT = str(tmp_path / "media")
    page.goto("/account/sign-up")
    sign_up(page, "csp-user")
    page.fill("#id_name", "laptop")
    page.click("#token-form button[type=submit]")
    assert page.locator("#new-token-value").input_value().startswith("ser_")
    assert_no_violations(page)
    page.goto("/")
    page.set_input_files("#file", clip_path(1, 5))
    page.check("#keep-upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#result-panel:not([hidden]) #emotion")   # the result in place
    page.click("#permalink")
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/"))
    page.check("#share-audio")
    page.click("#share-form button[type=submit]")
    link = page.locator(".share-url").first.input_value()
    assert_no_violations(page)
    other = page.context.browser.new_context()
    try:
        shared = other.new_page()
        shared.add_init_script(WATCH)
        shared.goto(link)
        assert "shared with you" in shared.locator("#shared-note").inner_text()
        assert shared.locator("audio").evaluate(PLAY)
        assert shared.evaluate("window.cspViolations") == []
    finally:
        other.close()
