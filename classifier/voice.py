"""The "Adapt to my voice" page: enrol by recording or uploading sentences, see the profile,
let later analyses add to it, reset or delete it. Thin views over classifier/profiles.py; the
caller's profile is found through request.owner, so nobody else's is ever reachable."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ml import AudioError, ModelError
from ml.speaker import ENOUGH_CLIPS, ProfileError

from . import limits, profiles, uploads
from .views import ACCEPT


class ClipForm(forms.Form):
    """One enrolment clip (uploaded, or recorded in the page and sent as WAV)."""
    file = forms.FileField(error_messages={"required": "Choose or record a clip to add.",
                                           "empty": "The file is empty."})


class SettingsForm(forms.Form):
    """The profile's name and whether later analyses add to it."""
    name = forms.CharField(max_length=64, required=False)
    learn = forms.BooleanField(required=False)


def _page(request, error=None, status=200):
    profile = profiles.current(request.owner)
    return render(request, "classifier/voice.html", {
        "profile": profile, "summary": profiles.summary(profile) if profile else None,
        "enough": ENOUGH_CLIPS, "sentences": profiles.SENTENCES, "error": error,
        "accept": ACCEPT, "max_size": uploads.format_size(uploads.max_bytes()),
        "max_s": round(uploads.max_duration_s())}, status=status)


@require_GET
def page(request):
    """The caller's voice profile and the ways to add to it."""
    return _page(request)


@require_POST
@limits.limited("analyse", "SER_RATE_ANALYSE")
def add_clip(request):
    """Add one clip to the caller's profile (made on the first clip)."""
    form = ClipForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, next(iter(form.errors.values()))[0], status=400)
    try:
        profile = profiles.current(request.owner) or profiles.create(request.owner)
        profile = profiles.add_clip(profile, form.cleaned_data["file"])
    except AudioError as exc:
        return _page(request, str(exc), status=uploads.status_for(exc))
    except ModelError as exc:
        return _page(request, str(exc), status=503)
    except ProfileError as exc:
        return _page(request, str(exc), status=409)
    left = max(0, ENOUGH_CLIPS - profile.clips)
    messages.success(request, f"Added. Your voice profile has {profile.clips} clip(s)"
                     + (f"; {left} more to go." if left else ": enough to adapt well."))
    return redirect("voice")


@require_POST
def settings(request):
    """Rename the profile or switch learning from later analyses on or off."""
    profile = profiles.current(request.owner)
    form = SettingsForm(request.POST)
    if profile is None or not form.is_valid():
        return _page(request, "There is no voice profile to change; add a clip first.",
                     status=404 if profile is None else 400)
    profile.name = form.cleaned_data["name"] or profile.name
    profile.learn = form.cleaned_data["learn"]
    profile.save(update_fields=["name", "learn", "updated_at"])
    messages.success(request, "Saved. " + ("Your later analyses will add to your profile."
                                           if profile.learn else
                                           "Your later analyses will not change your profile."))
    return redirect("voice")


@require_POST
def reset(request):
    """Forget the clips of the caller's profile."""
    profile = profiles.current(request.owner)
    if profile is None:
        return _page(request, "There is no voice profile to reset.", status=404)
    profiles.reset(profile)
    messages.success(request, "Your voice profile was reset: it holds no clips now.")
    return redirect("voice")


@require_POST
def delete(request):
    """Delete the caller's profile."""
    profile = profiles.current(request.owner)
    if profile is None:
        return _page(request, "There is no voice profile to delete.", status=404)
    profile.delete()
    messages.success(request, "Your voice profile was deleted.")
    return redirect("voice")


urlpatterns = [
    path("", page, name="voice"),
    path("clips", add_clip, name="voice_add"),
    path("settings", settings, name="voice_settings"),
    path("reset", reset, name="voice_reset"),
    path("delete", delete, name="voice_delete"),
]
