from django.apps import AppConfig


class EvaAuthConfig(AppConfig):
    name = "evaapi.auth"
    label = "eva_auth"  # "auth" is django.contrib.auth's
    verbose_name = "EVA API authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from evaapi.auth.api import schema  # noqa: F401 - registers the OpenAPI auth extension
