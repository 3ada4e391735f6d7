from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from evaapi.events.sinks import Sink, sink_register
        from evaapi.sweeper import sweep_register
        from webhooks.services import deliveries_due_push, webhooks_publish

        sink_register(Sink("webhooks", webhooks_publish))
        sweep_register("webhooks.due", deliveries_due_push)
