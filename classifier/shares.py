"""Share a result on purpose: the owner makes (and revokes) a read-only link to one analysis;
the audio is reachable through it only if they ticked "include the audio"."""
import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import services
from .models import Analysis, ShareLink
from .views import audio_response, owned, png_response


MAX_LINKS = 10   # per analysis


@require_POST
def create(request, uid):
    """Make a share link to one of the caller's analyses."""
    analysis = get_object_or_404(owned(request), uid=uid)
    if analysis.shares.count() >= MAX_LINKS:
        messages.error(request, f"This result already has {MAX_LINKS} share links; revoke one "
                                f"first.")
        return redirect("result", uid=analysis.uid)
    ShareLink.objects.create(analysis=analysis, token=secrets.token_urlsafe(24),
                             with_audio=request.POST.get("with_audio") == "on"
                             and bool(analysis.audio))
    messages.success(request, "Share link created: anyone with it can see this result.")
    return redirect("result", uid=analysis.uid)


@require_POST
def revoke(request, uid, share_id):
    """Revoke (delete) one of the caller's share links."""
    share = get_object_or_404(ShareLink, pk=share_id, analysis__in=owned(request).filter(uid=uid))
    share.delete()
    messages.success(request, "The share link was revoked; it no longer works.")
    return redirect("result", uid=uid)


def _shared(token):
    return get_object_or_404(ShareLink.objects.select_related("analysis"), token=token)


@require_GET
def page(request, token):
    """The read-only result page behind a share link."""
    share = _shared(token)
    return render(request, "classifier/result.html", {"a": share.analysis, "share": share})


@require_GET
def plot(request, token, kind):
    """A plot of a shared analysis."""
    share = _shared(token)
    return png_response(services.plot_png(Analysis.objects.filter(pk=share.analysis_id), kind))


@require_GET
def audio(request, token):
    """The kept audio of a shared analysis, only if the owner shared it."""
    share = _shared(token)
    if not share.with_audio:
        raise Http404("The audio was not shared.")
    return audio_response(share.analysis)
