"""The classifier app: pages, API and management commands around the ml package."""
from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classifier"

    def ready(self):
        from . import limits  # noqa: F401  (registers the rate-setting system check)
