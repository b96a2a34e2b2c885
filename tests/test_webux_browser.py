"""The web experience in a real browser (headless Chromium), on a 1280×800 desktop and a
390×844 touch phone: every page and state fits the width and passes axe-core (WCAG 2.2 AA, no
serious or critical violation) with targets of at least 24×24 px; examples, uploads and
recordings show their result in place; Record and Live exclude each other; Live keeps its newest
entries in view and asks before an unsaved session is lost; without JavaScript the forms follow
post/redirect/get. Screenshots of every page and state at both sizes go to tests/artifacts/."""
import re
from urllib.parse import urlparse

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.template.loader import render_to_string
from django.test import RequestFactory

from classifier import services
from classifier.errors import error_page
from classifier.examples import EXAMPLES
from classifier.models import Analysis
from tests.audio_factory import clip_path, speech, write
from tests.browser import TIMEOUT_MS, screenshot, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"desktop": {"viewport": {"width": 1280, "height": 800}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                   "has_touch": True, "device_scale_factor": 1}}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Controls that must offer a 24×24 px target (links inside running text are exempt).
TARGETS_JS = """() => [...document.querySelectorAll(
        'button, input:not([type=hidden]), select, a.button, header a, .pager a, audio')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden'
                 && !e.closest('.visually-hidden, #swagger-ui'))
    .map(e => { const r = e.getBoundingClientRect();
                return {what: e.id || e.textContent.trim() || e.outerHTML.slice(0, 60),
                        w: r.width, h: r.height}; })
    .filter(t => t.w < 24 || t.h < 24)"""
NO_RELOAD = "() => { window.samePage = true; }"

axe = Axe()


def serious_violations(page):
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page as it is now."""
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                     "resultTypes": ["violations"]})
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def check(page, name, size, targets=True):
    """Assert the page fits the viewport's width, passes axe and has large enough targets;
    write its screenshot as tests/artifacts/<name>-<size>.png."""
    screenshot(page, f"{name}-{size}")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, size)
    violations = serious_violations(page)
    assert not violations, f"{name} ({size}):\n" + "\n".join(map(str, violations))
    if targets:
        assert page.evaluate(TARGETS_JS) == [], (name, size)


def deliberate(message):
    """True for the console line of a 4xx answer, or of the 500 page served by serve()."""
    return "status of 4" in message.text or message.location.get("url", "").endswith("/error-500")


@pytest.fixture
def open_page(chromium, live_server):
    """open_page(size, **context options) -> a page on the live server that fails the test on
    JavaScript errors (the console lines of deliberate 4xx answers are allowed)."""
    contexts, errors = [], []

    def make(size="desktop", **options):
        context = chromium.new_context(base_url=live_server.url, **SIZES[size], **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: m.type == "error" and not deliberate(m)
                and errors.append(m.text))
        return page
    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def long_clip(tmp_path):
    """A 9 s recording (three clips of different actors): long enough for a timeline."""
    parts = [speech(16000, 1, actor=a, emotion=e)[:, 0] for a, e in ((1, 5), (2, 3), (3, 4))]
    return write(tmp_path / "long.wav", np.concatenate(parts), 16000)


def serve(html, status):
    """A Playwright route handler answering with html and status."""
    return lambda route: route.fulfill(status=status, body=html, content_type="text/html")


def wait_for_panel(page):
    """Wait for the in-place result; return the emotion it shows."""
    page.wait_for_selector("#result-panel:not([hidden]) #emotion")
    emotion = page.locator("#result-panel #emotion").inner_text()
    emotions = services.get_predictor().artifact.emotions   # "Sad" or, uncertain, "Sad or happy"
    assert set(emotion.lower().split(" or ")) <= set(emotions)
    assert page.locator("#result-panel #bars meter").count() == len(
        services.get_predictor().artifact.emotions)
    assert re.fullmatch(r"/analyses/[0-9a-f-]{36}/", page.get_attribute("#permalink", "href"))
    assert page.evaluate("window.samePage") is True   # no page load happened
    return emotion


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_passes_axe_and_is_screenshotted(open_page, size, tmp_path, settings):
    page = open_page(size)
    page.goto("/")
    page.evaluate(NO_RELOAD)
    check(page, "home", size)
    page.set_input_files("#file", long_clip(tmp_path))   # two analyses of this browser's own
    page.click("#upload-form button[type=submit]")
    wait_for_panel(page)
    result = page.get_attribute("#permalink", "href")
    page.locator("form[data-example] button").first.click()
    page.wait_for_function(f"() => document.getElementById('permalink').getAttribute('href') "
                           f"!== {result!r}")
    assert Analysis.objects.count() == 2 and Analysis.objects.exclude(segments=[]).exists()
    for path, name in [(result, "result-timeline"),
                       ("/history/", "history"), ("/model/", "model")]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        check(page, name, size)
    emotions = services.get_predictor().artifact.emotions
    assert page.locator("#confusion tbody tr").count() == len(emotions)
    assert page.locator("#confusion td").first.evaluate(
        "td => parseFloat(getComputedStyle(td).fontSize)") >= 13   # readable numbers
    page.goto("/history/")
    assert page.locator("#history tbody tr").count() == 2
    settings.SER_SERVER_MIC = True   # the server-microphone page (a device list or a problem)
    page.goto("/mic/")
    check(page, "server-mic", size)

    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert page.locator("header a.brand").get_attribute("href") == "/"
    check(page, "api-docs", size, targets=False)   # Swagger UI's own controls are its own

    response = page.goto("/analyses/999999/")
    assert response.status == 404 and page.locator("#next-step").is_visible()
    check(page, "error-404", size)

    page.goto("/")   # a form posted without its CSRF token: the styled 403 page
    page.evaluate("() => { const f = document.querySelector('form[data-example]');"
                  " f.querySelector('[name=csrfmiddlewaretoken]').remove(); f.submit(); }")
    page.wait_for_selector("#error-title")
    assert "Error 403" in page.content() and page.locator("#next-step").is_visible()
    check(page, "error-403", size)

    settings.SER_MAX_UPLOAD_BYTES = 50_000   # a 413 from the upload limit, sent without the script
    page.goto("/")
    page.set_input_files("#file", clip_path(1, 5))
    with page.expect_navigation():
        page.evaluate("() => document.getElementById('upload-form').submit()")
    assert "is too large" in page.locator("#error-message").inner_text()
    check(page, "error-413", size)

    for status in (400, 429, 500):   # pages with no user path to them, checked as served
        html = error_page(RequestFactory().get("/"), status).content.decode()
        page.route(f"**/error-{status}", serve(html, status))
        page.goto(f"/error-{status}")
        assert page.locator("#next-step").is_visible()
        check(page, f"error-{status}", size)
    locked = render_to_string("registration/locked_out.html", {"minutes": 15},
                              request=RequestFactory().get("/"))
    page.route("**/locked-out", serve(locked, 429))
    page.goto("/locked-out")
    check(page, "sign-in-locked", size)


@pytest.mark.parametrize("size", SIZES)
def test_example_click_through_shows_the_result_in_place(open_page, size):
    page = open_page(size)
    page.goto("/")
    page.evaluate(NO_RELOAD)
    examples = page.locator(".example")
    assert examples.count() == len(EXAMPLES) >= 3
    assert len({e.emotion for e in EXAMPLES}) == len(EXAMPLES)
    assert len({e.actor for e in EXAMPLES}) == len(EXAMPLES)
    credit = page.locator(".credit").inner_text()
    assert "RAVDESS" in credit and "CC BY-NC-SA 4.0" in credit
    player = examples.first.locator("audio")
    assert player.evaluate("a => a.play().then(() => new Promise(r => setTimeout(r, 300)))"
                           ".then(() => !a.paused && a.currentTime > 0)")
    player.evaluate("a => a.pause()")
    examples.first.locator("button").click()
    emotion = wait_for_panel(page)
    assert emotion.lower() == EXAMPLES[0].emotion
    assert urlparse(page.url).path == "/"
    analysis = Analysis.objects.get()
    assert analysis.filename == EXAMPLES[0].upload_name
    assert page.locator("#result-panel audio").get_attribute("src") == EXAMPLES[0].url
    check(page, "home-result-example", size)
    page.click("#permalink")
    page.wait_for_url(f"**/analyses/{analysis.uid}/")
    assert page.locator("#emotion").inner_text() == emotion
    assert page.locator("audio").get_attribute("src") == EXAMPLES[0].url


def test_upload_checks_the_file_first_then_shows_the_result_in_place(open_page, settings,
                                                                     tmp_path):
    settings.SER_MAX_UPLOAD_BYTES = 100_000
    page = open_page("phone")
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.goto("/")
    page.evaluate(NO_RELOAD)
    assert not page.locator(".drop-hint").is_visible()   # nothing to drop on a touch screen
    assert "up to 98 kB and 600 s" in page.locator("#file-help").inner_text()
    big = write(tmp_path / "big.wav", speech(16000, 1) * 0.5, 16000)   # ≈ 120 kB
    page.set_input_files("#file", big)
    assert re.search(r"\(1\d\d kB\)", page.locator("#file-name").inner_text())
    assert "too large" in page.locator("#upload-error").inner_text()
    assert "the limit is 98 kB" in page.locator("#upload-error").inner_text()
    page.click("#upload-form button[type=submit]")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a sound")
    page.set_input_files("#file", str(notes))
    assert "not an audio file" in page.locator("#upload-error").inner_text()
    page.click("#upload-form button[type=submit]")
    assert posts == []                                    # nothing was sent
    check(page, "home-upload-refused", "phone")

    small = write(tmp_path / "sad.wav", speech(16000, 1, actor=4, emotion=4)[:40000], 16000)
    page.set_input_files("#file", small)   # 2.5 s, 80 kB
    assert page.locator("#upload-error").is_hidden()
    page.click("#upload-form button[type=submit]")
    wait_for_panel(page)
    assert len(posts) == 1 and Analysis.objects.get().source == "upload"
    page.wait_for_selector("#result-panel #local-audio:not([hidden])")   # the browser's copy
    check(page, "home-result-upload", "phone")
    page.click("#another")
    assert page.evaluate("document.activeElement.id") == "file"
    assert page.evaluate("document.getElementById('file').files.length") == 1  # still chosen


def test_drop_hint_only_where_dropping_works(open_page):
    page = open_page("desktop")
    page.goto("/")
    assert page.locator(".drop-hint").is_visible()


def record_take(page, seconds=3.0):
    page.click("#rec-start")
    page.wait_for_function("() => document.getElementById('rec-level').value > 0.2")
    page.wait_for_timeout(seconds * 1000)


@pytest.mark.parametrize("size", SIZES)
def test_recording_in_place_and_record_and_live_exclude_each_other(open_page, size):
    page = open_page(size)
    page.goto("/")
    page.evaluate(NO_RELOAD)
    record_take(page)
    assert page.locator("#live-start").is_disabled()
    assert page.locator("button.primary:visible").all_inner_texts() == ["Stop"]  # one action
    check(page, "home-recording", size)
    page.click("#rec-stop")
    page.wait_for_selector("#record-form:not([hidden])")
    assert page.locator("#live-start").is_enabled()
    page.click("#rec-analyse")
    wait_for_panel(page)
    assert Analysis.objects.get().source == "record"
    page.wait_for_function("() => [...document.querySelectorAll('#result-panel figure img')]"
                           ".every(i => i.complete && i.naturalWidth > 100)")
    check(page, "home-result-recording", size)

    page.click("#live-start")
    page.wait_for_selector("#live-timeline li")
    assert page.locator("#rec-start").is_disabled()
    assert "stop it to record" in page.locator("#rec-status").inner_text()


LIVE_WATCH = """() => {
    window.announced = [];
    window.updates = 0;
    new MutationObserver(() => window.updates++)
      .observe(document.getElementById('live-timeline'), {childList: true});
    new MutationObserver(() => window.announced.push(
        document.getElementById('live-announce').textContent))
      .observe(document.getElementById('live-announce'), {childList: true, characterData: true,
                                                         subtree: true});
}"""


@pytest.mark.parametrize("size", SIZES)
def test_live_keeps_the_newest_in_view_and_asks_before_losing_a_session(open_page, size):
    page = open_page(size)
    page.goto("/")
    page.evaluate(LIVE_WATCH)
    page.click("#live-start")
    # Run past 10 s so that the time labels have two-digit seconds.
    page.wait_for_function("() => [...document.querySelectorAll('#live-timeline .t')]"
                           ".some(t => parseFloat(t.textContent.split('–')[1]) >= 10.5)",
                           timeout=40_000)
    tiles = page.locator("#live-timeline li")
    assert tiles.count() >= 12
    strip = page.locator("#live-timeline").bounding_box()
    newest = tiles.last.bounding_box()
    assert newest["x"] >= strip["x"] and newest["x"] + newest["width"] <= strip["x"] + strip["width"] + 1
    assert newest["y"] + newest["height"] <= strip["y"] + strip["height"] + 1
    assert tiles.last.is_visible()
    heights = page.eval_on_selector_all("#live-timeline .t", "ts => ts.map(t => t.getClientRects().length)")
    assert set(heights) == {1}                          # every label on one line
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    # Screen readers hear a change of emotion, not each of the ~20 updates.
    shown = page.eval_on_selector_all("#live-timeline li", "ls => ls.map(l => l.dataset.emotion)")
    announced = page.evaluate("window.announced")
    assert announced and all(a != b for a, b in zip(announced, announced[1:]))
    assert len(set(shown)) >= 2 and len(announced) < page.evaluate("window.updates") / 2
    assert page.locator("button.primary:visible").all_inner_texts() == ["Stop"]
    check(page, "home-live", size)

    page.click("#live-stop")
    page.wait_for_selector("#live-after:not([hidden])")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#live-start")
    assert asked and "not saved" in asked[0]
    assert page.locator("#live-after").is_visible()    # still there to save
    check(page, "home-live-stopped", size)
    leaving = []
    page.on("dialog", lambda d: (leaving.append(d.type), d.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert leaving == ["beforeunload"]


def test_without_javascript_forms_post_redirect_get(open_page, tmp_path):
    page = open_page("desktop", java_script_enabled=False)
    page.goto("/")
    bad = tmp_path / "notes.wav"
    bad.write_text("these are not sounds")
    page.set_input_files("#file", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#error")
    assert re.search(r"/#analyse$", page.url)          # not /analyse: a reload re-sends nothing
    assert "Unrecognised" in page.locator("#error").inner_text()
    page.reload()
    assert page.locator("#error").count() == 0          # shown once
    page.locator("form[data-example] button").first.click()
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/\?new=1$"))
    assert page.locator("#emotion").inner_text().lower() == EXAMPLES[0].emotion
    screenshot(page, "result-example-nojs-desktop")   # (axe needs JavaScript: checked above)


@pytest.mark.parametrize("size", SIZES)
def test_account_voice_and_shared_pages_fit_and_pass_axe(open_page, size):
    page = open_page(size)
    for path, name in [("/account/sign-up", "sign-up"), ("/account/sign-in", "sign-in"),
                       ("/voice/", "voice")]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        check(page, name, size)
    page.goto("/account/sign-up")
    sign_up(page, f"ux-{size}")
    page.fill("#id_name", "laptop")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token-value")
    check(page, "account", size)
    page.goto("/account/password")
    check(page, "password-change", size)
    page.fill("#id_old_password", "a good long passphrase")
    page.fill("#id_new_password1", "another long passphrase")
    page.fill("#id_new_password2", "another long passphrase")
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#password-changed")
    check(page, "password-changed", size)

    page.goto("/")
    page.locator("form[data-example] button").first.click()
    page.wait_for_selector("#result-panel:not([hidden]) #emotion")
    page.click("#permalink")
    page.wait_for_selector("#share-form")
    page.click("#share-form button[type=submit]")
    page.wait_for_selector(".share-url")
    check(page, "result-shared-by-owner", size)
    page.goto(page.locator(".share-url").first.input_value())
    page.wait_for_selector("#shared-note")
    check(page, "shared-result", size)
