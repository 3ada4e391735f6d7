from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "evaapi.events"
    label = "eva_events"
    verbose_name = "EVA API events"

    def ready(self):
        from django.conf import settings

        from evaapi.events.outbox import outbox_sweep
        from evaapi.events.sinks import CHANNELS_SINK, sink_register
        from evaapi.sweeper import sweep_register

        sink_register(CHANNELS_SINK)
        sweep_register("events.outbox", lambda: outbox_sweep(grace_seconds=settings.SWEEP_GRACE_SECONDS))
