"""Speaker adaptation in Live mode. A session started with adaptation on uses its owner's voice
profile when there is one; otherwise it learns its own speaker: every new WINDOW_S window of
speech adds its feature statistics (never audio) to the session's, and from
ml.speaker.SESSION_MIN_CLIPS windows on (about 10 s of speech, see MODEL_CARD.md) the answers
are adapted to them. The state is a small JSON file beside the session's PCM file, so every
worker process serves every chunk; it goes when the session ends or idles out.
"""
import json
import os

from ml.audio import SAMPLE_RATE, prepare
from ml.errors import AudioError
from ml.speaker import SESSION_MIN_CLIPS, Adaptation, ProfileError, SpeakerStats

from . import profiles, services

SUFFIX = ".voice"


def _path(pcm_path):
    return pcm_path.with_name(pcm_path.name + SUFFIX)


def _write(pcm_path, state):
    tmp = _path(pcm_path).with_name(_path(pcm_path).name + ".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(state, f)
    os.replace(tmp, _path(pcm_path))


def begin(pcm_path, owner, adapt):
    """Record whether the session adapts and to which of owner's profiles (if any)."""
    profile = profiles.current(owner) if adapt else None
    _write(pcm_path, {"adapt": bool(adapt), "profile": str(profile.uid) if profile else None,
                      "stats": None, "until_s": 0.0})


def read(pcm_path):
    """The session's state, or None (no adaptation) when it has none or it is unreadable."""
    try:
        with open(_path(pcm_path)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("adapt") else None


def adaptation(state, owner):
    """The ml.speaker.Adaptation for the session's next answer, or None (generic model)."""
    if not state:
        return None
    if state.get("profile"):
        profile = profiles.owned(owner).filter(uid=state["profile"]).first()
        if profile is not None:
            return profiles.adaptation(profile)
    stats = _stats(state)
    if stats is not None and stats.count >= SESSION_MIN_CLIPS:
        return Adaptation(stats, "session")
    return None


def _stats(state):
    try:
        return SpeakerStats.from_dict(state["stats"]) if state.get("stats") else None
    except ProfileError:
        return None


def hear(pcm_path, state, recent, total_s, entry, window_s):
    """After an answer: when its window held speech and started after the last window learnt,
    add the window's features to the session's speaker statistics."""
    if not state or state.get("profile") or entry.get("probabilities") in (None, {}):
        return state
    if total_s - state.get("until_s", 0.0) < window_s:
        return state
    predictor = services.get_predictor()
    try:
        audio = prepare(recent[-int(window_s * SAMPLE_RATE):], SAMPLE_RATE)
    except AudioError:
        return state
    stats = _stats(state) or predictor.new_stats()
    stats.add(predictor.features(audio)[None, :], audio.duration_s)
    state = dict(state, stats=stats.to_dict(), until_s=total_s)
    _write(pcm_path, state)
    return state


def status(state):
    """What the page shows: whether the session adapts, to what, and how far it is."""
    if not state:
        return {"adapt": False}
    stats = _stats(state)
    return {"adapt": True, "profile": bool(state.get("profile")),
            "session_clips": stats.count if stats else 0, "needed": SESSION_MIN_CLIPS}


def end(pcm_path):
    """Forget the session's state."""
    _path(pcm_path).unlink(missing_ok=True)
