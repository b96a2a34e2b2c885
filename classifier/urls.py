"""URLs of the classifier app."""
from django.urls import include, path

from . import views
from .api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("analyse", views.analyse, name="analyse"),
    path("examples/<slug:slug>/analyse", views.analyse_example, name="analyse_example"),
    path("analyses/<int:pk>/", views.result, name="result"),
    path("analyses/<int:pk>/waveform.png", views.plot, {"kind": "waveform"}, name="waveform"),
    path("analyses/<int:pk>/spectrogram.png", views.plot, {"kind": "spectrogram"},
         name="spectrogram"),
    path("analyses/<int:pk>/audio", views.audio, name="audio"),
    path("analyses/<int:pk>/delete", views.delete, name="delete"),
    path("history/", views.history, name="history"),
    path("history/delete", views.delete_all, name="delete_all"),
    path("history/export.csv", views.export_csv, name="export_csv"),
    path("model/", views.model, name="model"),
    path("model/confusion.png", views.model_confusion, name="model_confusion"),
    path("api/", api.urls),
    path("live/", include("classifier.live")),   # Live mode (live #5)
    path("mic/", include("classifier.mic")),     # server microphone, loopback only (live #5)
]
