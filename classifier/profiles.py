"""Voice profiles: the service layer between the pages/API/Live mode and ml.speaker.

A profile holds the running statistics of the feature vectors of its owner's clips (never
audio: each clip is decoded, turned into one feature vector and forgotten), how many clips and
seconds they came from and whether the owner's later analyses may add to it. Every query goes
through an owner (classifier/owners.py), so another owner's profile is simply not found.
"""
from django.db import transaction

from ml import segment
from ml.audio import decode
from ml.speaker import ENOUGH_CLIPS, Adaptation, ProfileError, SpeakerStats

from . import services, uploads
from .models import VoiceProfile

MAX_PROFILES = 20          # per owner
SENTENCES = (              # to read aloud when enrolling: ordinary, varied, emotionally neutral
    "Kids are talking by the door.",
    "Dogs are sitting by the door.",
    "The train to the coast leaves at half past nine.",
    "Please put the green folder on the second shelf.",
    "We walked along the river until the lights came on.",
    "My neighbour grows tomatoes and beans in his garden.",
    "The meeting moved to Thursday afternoon at three.",
    "A cup of tea is waiting for you in the kitchen.",
    "She wrote the numbers on the back of an envelope.",
    "The museum opens early on the first Sunday of the month.",
)


class TooManyProfiles(ProfileError):
    """The owner already has MAX_PROFILES profiles."""


def owned(owner):
    """The owner's profiles, most recently changed first."""
    return VoiceProfile.objects.owned_by(owner)


def current(owner):
    """The owner's profile the pages use (the most recently changed one), or None."""
    return owned(owner).first() if owner is not None else None


def create(owner, name="My voice"):
    """A new empty profile of owner; TooManyProfiles past MAX_PROFILES."""
    if owned(owner).count() >= MAX_PROFILES:
        raise TooManyProfiles(f"You have {MAX_PROFILES} voice profiles already; delete one "
                              f"first.")
    return VoiceProfile.objects.create(name=(name or "My voice")[:64], **owner.fields())


def statistics(profile):
    """The profile's SpeakerStats (empty ones for a new or reset profile)."""
    if not profile.stats:
        return services.get_predictor().new_stats()
    return SpeakerStats.from_dict(profile.stats)


def adaptation(profile):
    """The ml.speaker.Adaptation a prediction uses, or None when the profile has no clips yet
    or was made with other features than the loaded model's (then the generic model answers)."""
    if profile is None or not profile.clips:
        return None
    try:
        stats = statistics(profile)
        services.get_predictor().check_stats(stats)
    except ProfileError:
        return None
    return Adaptation(stats, "profile", profile.name)


def add_features(profile, vectors, seconds):
    """Fold feature vectors [n, d] and their seconds of speech into the profile (row-locked, so
    concurrent additions all count); returns the updated profile."""
    with transaction.atomic():
        locked = VoiceProfile.objects.select_for_update().get(pk=profile.pk)
        stats = statistics(locked)
        services.get_predictor().check_stats(stats)
        stats.add(vectors, seconds)
        locked.stats, locked.clips, locked.seconds = stats.to_dict(), stats.count, stats.seconds
        locked.save(update_fields=["stats", "clips", "seconds", "updated_at"])
    return locked


def add_clip(profile, upload):
    """Add one uploaded or recorded clip of the speaker; raises ml.AudioError (with the reason)
    for anything that is not usable speech. The audio is gone when this returns."""
    predictor = services.get_predictor()
    with uploads.temporary_path(upload) as path, services.analysis_slot() as deadline:
        plan = segment.plan(decode(path, max_duration_s=uploads.max_duration_s(),
                                   deadline=deadline).samples)   # the speech gate of every path
        vectors = segment.featurise(plan, predictor.config)
    return add_features(profile, vectors, plan.analysed_s)


def learn_from(profile, vectors, seconds):
    """Add an analysed recording's feature rows [n, d] (one per speech window, ml.segment)
    when the owner opted in (profile.learn); a profile of other features than the model's is
    left as it is (the analysis was not adapted to it)."""
    if profile is not None and profile.learn:
        try:
            add_features(profile, vectors, seconds)
        except ProfileError:
            pass


def reset(profile):
    """Forget every clip of the profile (name and settings stay)."""
    profile.stats, profile.clips, profile.seconds = {}, 0, 0.0
    profile.save(update_fields=["stats", "clips", "seconds", "updated_at"])
    return profile


def summary(profile):
    """JSON-ready description (API, pages): public id, name, clips, seconds, settings and the
    progress toward the number of clips measured to be enough (ENOUGH_CLIPS)."""
    return {"id": str(profile.uid), "name": profile.name, "clips": profile.clips,
            "seconds": round(profile.seconds, 1), "learn": profile.learn,
            "enough_clips": ENOUGH_CLIPS, "progress": min(1.0, profile.clips / ENOUGH_CLIPS),
            "created_at": profile.created_at.isoformat(timespec="seconds"),
            "updated_at": profile.updated_at.isoformat(timespec="seconds")}
