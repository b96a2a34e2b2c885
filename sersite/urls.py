"""Root URL configuration."""
from django.urls import include, path

from classifier.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("classifier.urls")),
]

handler400 = "classifier.errors.bad_request"
handler403 = "classifier.errors.permission_denied"
handler404 = "classifier.errors.page_not_found"
handler500 = "classifier.errors.server_error"
