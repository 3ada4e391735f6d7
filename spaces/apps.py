from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "spaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from evaapi.events.sinks import Sink, sink_register
        from evaapi.sweeper import sweep_register
        from spaces.queries import repositories  # noqa: F401 - declares the queries' containers
        from spaces.queries.indexes import space_index_publish
        from spaces.queries.services import queries_recover_sweep
        from spaces.services import spaces_purge_sweep

        sweep_register("spaces.purge", spaces_purge_sweep)
        sweep_register("queries.recover", queries_recover_sweep)
        sink_register(Sink("queries.index", space_index_publish))
