from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "spaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from evaapi.sweeper import sweep_register
        from spaces.services import spaces_purge_sweep

        sweep_register("spaces.purge", spaces_purge_sweep)
