"""Two real browser contexts (own cookies, own storage) on one live server: B reaches nothing
of what A analysed and kept — result page, plots, audio, old URL, history, CSV, deleting — while
A does; signing up in the browser keeps A's history."""
import re

import pytest

from classifier.models import Analysis
from tests.audio_factory import clip_path
from tests.browser import TIMEOUT_MS, screenshot, sign_up

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def contexts(chromium, live_server):
    made = [chromium.new_context(base_url=live_server.url) for _ in range(2)]
    pages = []
    for context in made:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        pages.append(page)
    yield pages
    for context in made:
        context.close()


def test_two_browsers_share_nothing(contexts, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    a, b = contexts
    a.goto("/")
    a.set_input_files("#file", clip_path(1, 5))
    a.check("#keep-upload")
    assert "days" in a.locator(".keep-note").first.inner_text()
    a.click("#upload-form button[type=submit]")
    a.wait_for_selector("#result-panel:not([hidden]) #emotion")   # the result in place
    a.click("#permalink")
    a.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/"))
    result_url = a.url.split("?")[0]
    analysis = Analysis.objects.get()
    assert analysis.audio and str(analysis.uid) in result_url
    assert "kept on the server for" in a.locator("#kept-note").inner_text()

    urls = [result_url, result_url + "waveform.png", result_url + "spectrogram.png",
            result_url + "audio", f"/analyses/{analysis.pk}/"]
    for url in urls:
        assert b.goto(url).status == 404, url
        assert a.goto(url).status == 200, url
    b.goto("/history/")
    assert b.locator("#empty").is_visible()
    csv_b = b.request.get("/history/export.csv").text()
    assert str(analysis.uid) not in csv_b and analysis.filename not in csv_b
    b_token = b.context.cookies()
    assert all(c["httpOnly"] for c in b_token if c["name"] == "ser_visitor")
    b.request.post(result_url + "delete", headers={"X-CSRFToken": _csrf(b)})
    assert Analysis.objects.filter(pk=analysis.pk).exists()
    screenshot(b, "privacy-other-browser-history")

    a.goto("/history/")
    assert a.locator("#history tbody tr").count() == 1
    a.click("#nav-sign-in")
    a.click("text=Sign up")
    sign_up(a, "alice")
    screenshot(a, "account")
    a.goto("/history/")
    assert a.locator("#history tbody tr").count() == 1
    analysis.refresh_from_db()
    assert analysis.user.username == "alice" and analysis.visitor is None


def _csrf(page):
    return next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
