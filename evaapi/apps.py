from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EvaApiConfig(AppConfig):
    name = "evaapi"
    verbose_name = "EVA API"

    def ready(self):
        # Each app declares its store containers in its repositories module.
        autodiscover_modules("repositories")
