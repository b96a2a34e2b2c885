"""Pages: parse the request, call the service layer, render."""
from django.shortcuts import render

from ml import AudioError, ModelError

from . import services


def home(request):
    """Upload form; on POST analyse the uploaded file and show the result."""
    context = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "Choose an audio file to analyse."
        else:
            try:
                context["result"] = services.analyse(upload)
            except (AudioError, ModelError) as exc:
                context["error"] = str(exc)
    status = 400 if context.get("error") else 200
    return render(request, "classifier/home.html", context, status=status)
