"""The relay: from an item's outbox to the sinks and the `events` container."""

import logging
from datetime import timedelta

from evaapi.events import repositories
from evaapi.events.domain import Event
from evaapi.events.faults import crash_point
from evaapi.events.sinks import sinks_publish
from evaapi.store import ContainerSpec, PreconditionFailed
from evaapi.times import iso, utc_now

logger = logging.getLogger(__name__)

_CLEAR_ATTEMPTS = 5


def outbox_add(item: dict, event: Event) -> dict:
    """`item` with `event` added to its outbox: write the result in the same store call as the
    change the event describes."""
    return {**item, "outbox": [*item.get("outbox", []), event.as_dict()], "outbox_pending": True}


def outbox_relay(spec: ContainerSpec, item: dict) -> dict | None:
    """Records, publishes and clears the item's pending events; returns the item as it is then
    (None if it is gone). Each step may be repeated safely: sinks are idempotent, recording is
    by id, and clearing is conditional on the item's version."""
    relayed: set[str] = set()
    for _ in range(_CLEAR_ATTEMPTS):
        pending = [Event.from_dict(entry) for entry in item.get("outbox", [])]
        if not pending:
            return item
        for event in pending:
            if event.id in relayed:
                continue
            # Recorded before it is published: whoever sees it live can also find it in
            # `events`, so a subscriber resuming from the record misses nothing in between.
            repositories.event_insert(event)
            crash_point("relay.after_record")
            sinks_publish(event)
            crash_point("relay.after_publish")
            relayed.add(event.id)
        try:
            return repositories.outbox_clear(spec, item, relayed=relayed)
        except PreconditionFailed:
            # Changed meanwhile (perhaps with new events): relay what it holds now.
            item = repositories.outbox_item_read(spec, item)
            if item is None:
                return None
    logger.warning("outbox of %s %s still changing after %d attempts; the sweeper will finish it",
                   spec.name, item["id"], _CLEAR_ATTEMPTS)
    return item


def outbox_relay_now(spec: ContainerSpec, item: dict) -> dict:
    """The relay right after a service's write. A failure here (a sink down) does not fail the
    write: the events stay in the outbox and the sweeper relays them."""
    crash_point("write.after_commit")
    try:
        return outbox_relay(spec, item) or item
    except Exception:
        logger.warning("relaying the events of %s %s failed; the sweeper will retry", spec.name, item["id"],
                       exc_info=True)
        return item


def outbox_sweep(*, grace_seconds: float, limit: int = 100) -> int:
    """Relays the events left in outboxes (by a crash, an outage) whose item changed more than
    `grace_seconds` ago, so the sweeper does not race the relay a service is running. Returns
    how many items it relayed."""
    older_than = iso(utc_now() - timedelta(seconds=grace_seconds))
    relayed = 0
    for spec in repositories.outbox_containers():
        for item in repositories.outbox_pending_page(spec, older_than=older_than, limit=limit):
            try:
                outbox_relay(spec, item)
                relayed += 1
            except Exception:
                logger.warning("sweeping the outbox of %s %s failed; will retry", spec.name, item["id"],
                               exc_info=True)
    return relayed
