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


def query_group(query_id: str) -> str:
    return f"query.{query_id}"


def event_groups(event: Event) -> list[str]:
    """Where subscriptions listen for the event: its tenant, its space, its query."""
    groups = [tenant_group(event.tenant_id)]
    if event.space_id:
        groups.append(space_group(event.space_id))
    if event.type.startswith("query.") and event.data.get("query_id"):
        groups.append(query_group(event.data["query_id"]))
    return groups


def channels_publish(event: Event) -> None:
    """To the Channels groups of the event (event_groups), where subscriptions listen. Each
    message names its group: a socket in two of them gets the event twice and tells which is
    which."""
    layer = get_channel_layer()
    event_data = event.as_dict()

    async def send_all():
        for group in event_groups(event):
            await layer.group_send(group, {"type": "event.published", "group": group, "event": event_data})

    async_to_sync(send_all)()


CHANNELS_SINK = Sink("channels", channels_publish)
