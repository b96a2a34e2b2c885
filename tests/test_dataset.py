"""RAVDESS file-name parsing and folder scanning."""
import pytest

from ml import DatasetError
from ml.dataset import EMOTIONS, parse_name, scan


def test_parse_every_field():
    clip = parse_name("/x/Actor_07/03-01-06-02-01-02-07.wav")
    assert (clip.modality, clip.channel, clip.emotion, clip.intensity) == \
        ("audio-only", "speech", "fearful", "strong")
    assert (clip.statement, clip.repetition, clip.actor, clip.gender) == (1, 2, 7, "male")
    assert parse_name("03-01-01-01-02-01-24.flac").gender == "female"
    assert parse_name("03-01-08-01-01-01-23.WAV").emotion == "surprised"


@pytest.mark.parametrize("name", ["readme.txt", "03-01-09-01-01-01-01.wav",
                                  "03-01-01-03-01-01-01.wav", "03-01-01-01-01-01.wav",
                                  "03-01-01-01-01-01-01.txt", "3-1-1-1-1-1-1.wav"])
def test_unrecognised_names(name):
    assert parse_name(name) is None


def test_scan_shared_copy(data_dir):
    clips = scan(data_dir)
    assert len(clips) % 60 == 0 and len(clips) >= 60
    assert {c.emotion for c in clips} == set(EMOTIONS)
    actors = {c.actor for c in clips}
    assert all(sum(c.actor == a for c in clips) == 60 for a in actors)


def test_scan_emotion_subset(data_dir):
    clips = scan(data_dir, ("calm", "happy"))
    assert {c.emotion for c in clips} == {"calm", "happy"}


def test_scan_empty_folder_is_clear(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="No RAVDESS clips"):
        scan(str(tmp_path))
    with pytest.raises(DatasetError, match="not a folder"):
        scan(str(tmp_path / "missing"))
