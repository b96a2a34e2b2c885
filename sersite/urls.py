"""Root URL configuration."""
from django.urls import include, path

from classifier.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("classifier.urls")),
]
