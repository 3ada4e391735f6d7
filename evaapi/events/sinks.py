"""Where published events go. A sink is registered in code (the app that owns it does so in
its AppConfig.ready) and must be idempotent: an event is published at least once, and again
after a crash between publishing and recording it. Sinks can tell repeats by the event id."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from evaapi.events.domain import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sink:
    name: str
    publish: Callable[[Event], None]


_SINKS: dict[str, Sink] = {}


def sink_register(sink: Sink) -> Sink:
    _SINKS[sink.name] = sink
    return sink


def sink_unregister(name: str) -> None:
    _SINKS.pop(name, None)


def sinks_publish(event: Event) -> None:
    """Every sink gets the event; the first failure stops the relay (the event stays in its
    outbox and is published again, to every sink, later)."""
    for sink in list(_SINKS.values()):
        sink.publish(event)


def tenant_group(tenant_id: str) -> str:
    return f"tenant.{tenant_id}"


def space_group(space_id: str) -> str:
    return f"space.{space_id}"


def channels_publish(event: Event) -> None:
    """To the Channels groups of the event's tenant and space, where subscriptions listen."""
    layer = get_channel_layer()
    message = {"type": "event.published", "event": event.as_dict()}
    groups = [tenant_group(event.tenant_id)]
    if event.space_id:
        groups.append(space_group(event.space_id))
    for group in groups:
        async_to_sync(layer.group_send)(group, message)


CHANNELS_SINK = Sink("channels", channels_publish)
