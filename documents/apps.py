from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from documents.services import document_count_publish, documents_recover_sweep
        from evaapi.events.sinks import Sink, sink_register
        from evaapi.sweeper import sweep_register

        sink_register(Sink("documents.count", document_count_publish))
        sweep_register("documents.recover", documents_recover_sweep)
