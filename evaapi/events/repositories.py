"""Store access for events: the `events` container, and the outboxes that items of other
containers carry (the only module of the package that touches the store)."""

from django.conf import settings

from evaapi.events.domain import Event
from evaapi.store import Conflict, ContainerSpec, Index, NotFound, Query, container_register, patch_set, store
from evaapi.store import query as q

EVENTS = container_register(
    ContainerSpec(
        name="events",
        partition_key="/tenant_id",
        default_ttl=-1,  # each event carries its own ttl, from EVENT_TTL_DAYS when recorded
        filter_fields=("type", "space_id", "timestamp"),
        # Newest first: all (a family filters as it walks), of one type, or of one space.
        orderings=((("timestamp", "desc"),),),
        indexes=(
            Index(equality=("type",), order=(("timestamp", "desc"),)),
            Index(equality=("space_id",), order=(("timestamp", "desc"),)),
        ),
    )
)

# Containers whose items carry an outbox: {"outbox": [envelope, ...], "outbox_pending": bool,
# "updated_at": iso}. Each declares OUTBOX_INDEX, the sweeper's way to the items it must relay.
_OUTBOX_CONTAINERS: dict[str, ContainerSpec] = {}
OUTBOX_INDEX = Index(equality=("outbox_pending",), order=(("updated_at", "asc"),))


def outbox_container_register(spec: ContainerSpec) -> ContainerSpec:
    if OUTBOX_INDEX not in spec.indexes or "updated_at" not in spec.filter_fields:
        raise ValueError(f"{spec.name}: an outbox container declares OUTBOX_INDEX and the filter field updated_at")
    _OUTBOX_CONTAINERS[spec.name] = spec
    return spec


def outbox_containers() -> list[ContainerSpec]:
    return list(_OUTBOX_CONTAINERS.values())


def event_insert(event: Event) -> bool:
    """Records the event; False when it was recorded before (recording is idempotent by id)."""
    item = event.as_dict()
    item["ttl"] = settings.EVENT_TTL_DAYS * 86400
    try:
        store().container(EVENTS).create(item)
    except Conflict:
        return False
    return True


def event_read(*, tenant_id: str, event_id: str) -> Event | None:
    try:
        return Event.from_dict(store().container(EVENTS).read(event_id, partition_key=tenant_id))
    except NotFound:
        return None


def event_items_since(*, tenant_id: str, timestamp: str,
                      continuation: str | None) -> tuple[list[Event], str | None]:
    """The tenant's events from `timestamp` on, oldest first, a page at a time."""
    page = store().container(EVENTS).query(
        Query(filters=(q.gte("timestamp", timestamp),), order_by=(("timestamp", "asc"),), limit=1000,
              continuation=continuation),
        partition_key=tenant_id,
    )
    return [Event.from_dict(item) for item in page.items], page.continuation


def event_page(*, tenant_id: str, filters: tuple, limit: int,
               continuation: str | None) -> tuple[list[Event], str | None]:
    page = store().container(EVENTS).query(
        Query(filters=filters, order_by=(("timestamp", "desc"),), limit=limit, continuation=continuation),
        partition_key=tenant_id,
    )
    return [Event.from_dict(item) for item in page.items], page.continuation


def outbox_clear(spec: ContainerSpec, item: dict, *, relayed: set[str]) -> dict | None:
    """Removes the `relayed` events from the item's outbox, only if the item is unchanged since
    it was read (PreconditionFailed otherwise: re-read and retry). None if the item is gone."""
    remaining = [event for event in item.get("outbox", []) if event["id"] not in relayed]
    try:
        return store().container(spec).patch(
            item["id"],
            partition_key=item[spec.partition_field],
            operations=[patch_set("/outbox", remaining), patch_set("/outbox_pending", bool(remaining))],
            etag=item["_etag"],
        )
    except NotFound:
        return None


def outbox_item_read(spec: ContainerSpec, item: dict) -> dict | None:
    try:
        return store().container(spec).read(item["id"], partition_key=item[spec.partition_field])
    except NotFound:
        return None


def outbox_pending_page(spec: ContainerSpec, *, older_than: str, limit: int) -> list[dict]:
    """Items of every partition whose outbox still holds events, last changed before `older_than`."""
    page = store().container(spec).query(
        Query(filters=(q.eq("outbox_pending", True), q.lt("updated_at", older_than)),
              order_by=(("updated_at", "asc"),), limit=limit),
        partition_key=None,
    )
    return page.items
