from django.apps import AppConfig


class EvaAuthConfig(AppConfig):
    name = "evaapi.auth"
    label = "eva_auth"  # "auth" is django.contrib.auth's
    verbose_name = "EVA API authentication"
    default_auto_field = "django.db.models.BigAutoField"
