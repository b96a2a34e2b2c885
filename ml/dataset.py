"""RAVDESS-layout datasets: file-name parsing and folder scanning."""
import os
import re
from dataclasses import dataclass

from .errors import DatasetError

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
EMOTION_CODES = {f"{i + 1:02d}": name for i, name in enumerate(EMOTIONS)}
TUTORIAL_EMOTIONS = ("calm", "happy", "fearful", "disgust")
MODALITIES = {"01": "full-AV", "02": "video-only", "03": "audio-only"}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".webm")
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


@dataclass(frozen=True)
class Clip:
    """One RAVDESS recording and every field its file name encodes."""
    path: str
    modality: str
    channel: str
    emotion: str
    intensity: str
    statement: int
    repetition: int
    actor: int

    @property
    def gender(self):
        """'male' for odd-numbered actors, 'female' for even ones."""
        return "male" if self.actor % 2 else "female"


def parse_name(path):
    """Parse a RAVDESS file name (03-01-EE-II-SS-RR-AA.ext) into a Clip; None if it is not one."""
    stem, ext = os.path.splitext(os.path.basename(path))
    m = _NAME.match(stem)
    if not m or ext.lower() not in AUDIO_EXTENSIONS:
        return None
    mod, chan, emo, inten, stmt, rep, actor = m.groups()
    if (mod not in MODALITIES or chan not in CHANNELS or emo not in EMOTION_CODES
            or inten not in INTENSITIES or stmt not in STATEMENTS or rep not in ("01", "02")
            or int(actor) < 1):
        return None
    return Clip(path, MODALITIES[mod], CHANNELS[chan], EMOTION_CODES[emo], INTENSITIES[inten],
                int(stmt), int(rep), int(actor))


def scan(folder, emotions=EMOTIONS):
    """All audio-only clips under folder (recursively) whose emotion is in emotions, sorted.

    Raises DatasetError if the folder is missing or holds no recognisable RAVDESS files.
    """
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder} is not a folder.")
    clips = []
    for root, _, files in os.walk(folder):
        for name in files:
            clip = parse_name(os.path.join(root, name))
            if clip and clip.modality != "video-only" and clip.emotion in emotions:
                clips.append(clip)
    if not clips:
        raise DatasetError(
            f"No RAVDESS clips found under {folder}. Expected files named like "
            f"Actor_01/03-01-05-01-01-01-01.wav (modality-channel-emotion-intensity-statement-"
            f"repetition-actor) for the emotions {', '.join(emotions)}.")
    return sorted(clips, key=lambda c: c.path)
