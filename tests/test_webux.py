"""The web experience without a browser: example clips, colour contrast of the stylesheet,
sizes for people, styled error pages (the browser tests check the rest)."""
import re
from pathlib import Path

import pytest
import soundfile as sf

from classifier.examples import BY_SLUG, EXAMPLES
from classifier.models import Analysis
from classifier.uploads import format_size

STYLE = (Path(__file__).resolve().parent.parent / "static" / "classifier" / "style.css").read_text()


def luminance(hex_colour):
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour(name):
    value = re.search(rf"--{name}:\s*#([0-9a-f]{{6}}|[0-9a-f]{{3}})\b", STYLE).group(1)
    return "#" + (value if len(value) == 6 else "".join(c * 2 for c in value))


@pytest.mark.parametrize("emotion", ["neutral", "calm", "happy", "sad", "angry", "fearful",
                                     "disgust", "surprised"])
def test_emotion_colours_are_readable_as_text(emotion):
    for background in ("#ffffff", colour("bg"), colour("card")):
        assert contrast(colour(emotion), background) >= 4.5, (emotion, background)
    assert contrast(colour(emotion), "#e9ecf0") >= 3.0   # a bar against its empty track


def test_links_and_muted_text_are_readable():
    for name in ("accent", "muted", "danger"):
        assert contrast(colour(name), colour("bg")) >= 4.5, name


def test_examples_are_short_16k_clips_of_different_emotions_and_actors():
    assert len(EXAMPLES) >= 3
    assert len({e.emotion for e in EXAMPLES}) == len({e.actor for e in EXAMPLES}) == len(EXAMPLES)
    for e in EXAMPLES:
        info = sf.info(str(e.path))
        assert info.samplerate == 16000 and info.channels == 1 and 2 < info.duration < 6
        assert e.path.stat().st_size < 100_000


@pytest.mark.django_db
def test_an_example_is_analysed_by_a_form_post_or_as_json(client):
    example = EXAMPLES[0]
    answer = client.post(f"/examples/{example.slug}/analyse", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    a = Analysis.objects.get(uid=answer.json()["id"])
    assert answer.json()["url"] == f"/analyses/{a.uid}/"
    assert a.filename == example.upload_name and a.emotion == example.emotion
    page = client.get(answer.json()["url"]).content.decode()
    assert f'src="{example.url}"' in page   # the result page plays the example itself
    form = client.post(f"/examples/{example.slug}/analyse")
    assert form.status_code == 302 and re.fullmatch(r"/analyses/[0-9a-f-]{36}/\?new=1",
                                                    form["Location"])
    assert client.post("/examples/nope/analyse").status_code == 404
    assert client.get(f"/examples/{example.slug}/analyse").status_code == 405
    home = client.get("/").content.decode()
    assert all(f"/examples/{e.slug}/analyse" in home and e.url in home for e in BY_SLUG.values())
    assert "CC BY-NC-SA 4.0" in home and "RAVDESS" in home


def test_sizes_are_in_kb_below_one_mb():
    assert format_size(2_000) == "2 kB"
    assert format_size(300_000) == "293 kB"
    assert format_size(2**20) == "1 MB"
    assert format_size(31_500_000) == "30.0 MB"


@pytest.mark.django_db
@pytest.mark.parametrize("path, status, text", [
    ("/no-such-page", 404, "Page not found"),
    ("/analyses/00000000-0000-0000-0000-000000000000/", 404, "Page not found"),
])
def test_error_pages_are_styled_and_say_what_next(client, path, status, text):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == status and text in html
    assert "classifier/style.css" in html and 'id="next-step"' in html and 'href="/"' in html


@pytest.mark.django_db
def test_csrf_failure_and_wrong_method_get_the_styled_page():
    from django.test import Client
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/history/delete")
    assert response.status_code == 403 and 'id="next-step"' in response.content.decode()
    response = strict.get("/history/delete")
    assert response.status_code == 405 and 'id="next-step"' in response.content.decode()
    api = strict.get("/api/nope")
    assert api.status_code == 404 and api.json()["error"]
