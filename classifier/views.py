"""Pages: parse the request, call the service layer, render. Every query of analyses goes
through request.owner (classifier/owners.py): another owner's item is a 404."""
import mimetypes

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ml import AudioError, ModelError

from . import limits, profiles, services, uploads
from .examples import BY_FILENAME, BY_SLUG, EXAMPLES
from .forms import AnalyseForm
from .models import Analysis

PAGE_SIZE = 20
ACCEPT = ".wav,.flac,.ogg,.opus,.mp3,.m4a,.aac,.webm,audio/*"


def _home(request, form, error=None, status=200):
    return render(request, "classifier/home.html",
                  {"form": form, "error": error, "accept": ACCEPT, "examples": EXAMPLES,
                   "max_bytes": uploads.max_bytes(),
                   "profile": profiles.current(request.owner),
                   "max_size": uploads.format_size(uploads.max_bytes()),
                   "max_s": round(uploads.max_duration_s()),
                   "keep_days": services.keep_audio_days()}, status=status)


def owned(request):
    """The analyses of the caller (request.owner), heavy columns deferred."""
    return Analysis.objects.owned_by(request.owner).defer(*services.HEAVY_FIELDS)


def _owned_one(request, uid):
    return get_object_or_404(owned(request), uid=uid)


@require_GET
def home(request):
    """The ways in: example clips, upload a file, record in the page, Live mode."""
    return _home(request, AnalyseForm())


def _answer(request, run):
    """Run the analysis run() and answer: JSON {"id", "url"} / {"error"} for the page's script
    (which shows the result in place); for a browser's form submission post/redirect/get (the
    result page, or the home page showing the error, so a reload never re-sends the form);
    other clients get the result page's address or the error page with its 4xx status."""
    try:
        analysis = run()
    except AudioError as exc:
        error, status = str(exc), uploads.status_for(exc)
    except ModelError as exc:
        error, status = str(exc), 503
    else:
        url = reverse("result", args=[analysis.uid])
        if uploads.wants_json(request):
            return JsonResponse({"id": str(analysis.uid), "url": url})
        return redirect(url + "?new=1")
    if uploads.wants_json(request):
        return JsonResponse({"error": error}, status=status)
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        messages.error(request, error)
        return redirect(reverse("home") + "#analyse")
    return _home(request, AnalyseForm(), error, status)


@require_http_methods(["GET", "POST"])
@limits.limited("analyse", "SER_RATE_ANALYSE")
def analyse(request):
    """Analyse the posted clip (see _answer for the responses)."""
    if request.method == "GET":
        return redirect("home")
    form = AnalyseForm(request.POST, request.FILES)

    def run():
        if not form.is_valid():
            raise uploads.UploadRejected(next(iter(form.errors.values()))[0])
        profile = profiles.current(request.owner) if form.cleaned_data["adapt"] else None
        return services.analyse_upload(form.cleaned_data["file"], form.cleaned_data["source"],
                                       form.cleaned_data["keep"], owner=request.owner,
                                       profile=profile)
    return _answer(request, run)


@require_POST
@limits.limited("analyse", "SER_RATE_ANALYSE")
def analyse_example(request, slug):
    """Analyse one of the example clips shipped with the site (into the caller's history)."""
    example = BY_SLUG.get(slug)
    if example is None:
        raise Http404("No such example.")

    def run():
        with example.open() as clip:
            return services.analyse_upload(clip, Analysis.Source.UPLOAD, keep=False,
                                           owner=request.owner)
    return _answer(request, run)


@require_GET
def result(request, uid):
    """One analysis: emotion, probabilities, plots, player, timeline, share links."""
    analysis = _owned_one(request, uid)
    return render(request, "classifier/result.html",
                  {"a": analysis, "fresh": request.GET.get("new") == "1",
                   "example": BY_FILENAME.get(analysis.filename),
                   "shares": analysis.shares.all(), "owner_view": True,
                   "keep_days": services.keep_audio_days()})


def png_response(png):
    """A PNG plot answer (404 when there is none)."""
    if not png:
        raise Http404("No such analysis.")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def plot(request, uid, kind):
    """The waveform or spectrogram PNG of an analysis."""
    return png_response(services.plot_png(owned(request).filter(uid=uid), kind))


def audio_response(analysis):
    """Stream the kept audio file of analysis (404 when it was not kept)."""
    if not analysis.audio:
        raise Http404("The audio of this analysis was not kept.")
    try:
        handle = analysis.audio.open("rb")
    except FileNotFoundError:
        raise Http404("The audio file is missing.") from None
    kind = mimetypes.guess_type(analysis.audio.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=kind, filename=analysis.filename or None)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def audio(request, uid):
    """The kept audio of one of the caller's analyses, streamed through Django."""
    return audio_response(_owned_one(request, uid))


@require_POST
def delete(request, uid):
    """Delete one analysis and its kept audio."""
    _owned_one(request, uid).delete()
    messages.success(request, "The analysis was deleted.")
    return redirect("history")


@require_GET
def legacy(request, pk, rest):
    """Old integer URLs (/analyses/7/...): the owner is sent to the new address; everyone
    else gets 404, as for any item that is not theirs."""
    analysis = get_object_or_404(owned(request), pk=pk)
    return redirect(f"/analyses/{analysis.uid}/{rest}")


@require_POST
def delete_all(request):
    """Delete the caller's whole history and every kept audio file of it."""
    count = services.delete_all(request.owner)
    messages.success(request, f"Deleted {count} analys{'is' if count == 1 else 'es'}.")
    return redirect("history")


@require_GET
def history(request):
    """The caller's past analyses, newest first, paginated."""
    page = Paginator(owned(request), PAGE_SIZE)
    return render(request, "classifier/history.html",
                  {"page": page.get_page(request.GET.get("page")),
                   "keep_days": services.keep_audio_days(),
                   "result_days": services.keep_results_days()})


@require_GET
def export_csv(request):
    """The caller's whole history as a CSV download, streamed row by row (memory does not
    grow with the history)."""
    analyses = owned(request).iterator(chunk_size=500)
    try:
        emotions = services.get_predictor().artifact.emotions
    except ModelError:
        emotions = sorted({e for p in Analysis.objects.owned_by(request.owner)
                           .values_list("probabilities", flat=True).iterator() for e in p})
    response = StreamingHttpResponse(services.csv_lines(analyses, emotions),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ser-history.csv"'
    return response


def _percent(value):
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) else "—"


def _confusion_rows(evaluation):
    """[(true emotion, [(percent of the row, shade 0-10, on the diagonal)])] for the table."""
    rows = []
    for i, (label, counts) in enumerate(zip(evaluation.get("labels") or [],
                                           evaluation.get("confusion_matrix") or [])):
        total = sum(counts) or 1
        rows.append((str(label), [(round(100 * n / total), round(10 * n / total), i == j)
                                  for j, n in enumerate(counts)]))
    return rows


@require_GET
def model(request):
    """The model card: emotions, training data and licence, honest figures, limits."""
    try:
        info = services.model_info()
    except ModelError as exc:
        return render(request, "classifier/model.html", {"error": str(exc)}, status=503)
    ev = info["evaluation"]
    figures = [
        ("Emotion accuracy (mean over folds)",
         f"{_percent(ev.get('accuracy_mean'))} ± {_percent(ev.get('accuracy_sd'))}"),
        ("Emotion macro-F1", f"{ev['macro_f1']:.2f}" if "macro_f1" in ev else "—"),
        ("Chance level", _percent(1 / len(info["emotions"]))),
        ("Gender accuracy", _percent(ev.get("gender_accuracy_mean"))),
        ("Accuracy per fold", ", ".join(_percent(f) for f in ev.get("fold_accuracy", []))),
    ]
    if info.get("adaptation"):
        figures.append(("Emotion accuracy adapted to the speaker (1–32 of their clips known)",
                        _percent(info["adaptation"]["accuracy"])))
    return render(request, "classifier/model.html", {
        "info": info, "protocol": ev.get("protocol", ""), "figures": figures,
        "per_emotion": info["training_data"].get("per_emotion", {}),
        "has_confusion": bool(ev.get("confusion_matrix")),
        "confusion": _confusion_rows(ev), "confusion_labels": [str(x) for x in ev.get("labels", [])],
    })


@require_GET
def model_confusion(request):
    """The model's speaker-independent confusion matrix as a PNG."""
    try:
        png = services.model_confusion_png()
    except ModelError:
        png = None
    if png is None:
        raise Http404("This model has no confusion matrix.")
    return HttpResponse(png, content_type="image/png")
