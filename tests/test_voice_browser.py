""""Adapt to my voice" in a real browser: enrol with the fake microphone, see the profile grow,
then an analysis adapted to it; the switch turns adaptation off; reset and delete."""
import pytest

from classifier.models import Analysis, VoiceProfile
from tests.browser import screenshot
from tests.test_browser import expect_result, record

pytestmark = pytest.mark.django_db(transaction=True)


def test_enrol_by_microphone_then_adapted_result(web_page):
    page = web_page
    page.goto("/")
    assert page.locator("#adapt-record").count() == 0       # no profile yet: nothing to switch
    page.click("nav >> text=My voice")
    assert "No voice profile yet" in page.locator("#profile").inner_text()
    for clips in (1, 2):
        record(page)
        with page.expect_navigation():
            page.click("#rec-analyse")                        # "Add to my voice profile"
        assert "Added." in page.locator(".messages").inner_text()
        assert page.locator("#profile-clips").inner_text() == str(clips)
        assert page.locator("#enrol-progress").get_attribute("value") == str(clips)
    profile = VoiceProfile.objects.get()
    assert profile.clips == 2 and profile.seconds > 2
    screenshot(page, "voice")

    page.goto("/")
    assert page.locator("#adapt-record").is_checked()
    record(page)
    page.click("#rec-analyse")
    expect_result(page)
    assert "adapted to your voice profile “My voice” (2 clips" in \
        page.locator("#adaptation").inner_text()
    assert Analysis.objects.get().adaptation["clips"] == 2
    screenshot(page, "result-adapted")

    page.goto("/")                                           # the visible switch turns it off
    record(page)
    page.uncheck("#adapt-record")
    page.click("#rec-analyse")
    expect_result(page)
    assert page.locator("#adaptation").inner_text() == "generic model (not adapted)"

    page.goto("/voice/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#profile-reset")
    page.wait_for_selector("text=Your voice profile was reset")
    assert page.locator("#profile-clips").inner_text() == "0"
    assert VoiceProfile.objects.get().clips == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#profile-delete")
    page.wait_for_selector("text=Your voice profile was deleted")
    assert "No voice profile yet" in page.locator("#profile").inner_text()
    assert not VoiceProfile.objects.exists()
