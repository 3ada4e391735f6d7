"""Store access for webhooks (the only module of the app that touches the store)."""

import contextlib
from dataclasses import asdict

from django.conf import settings

from evaapi.events.repositories import OUTBOX_INDEX, outbox_container_register
from evaapi.records import record_from_item
from evaapi.store import (
    Conflict,
    ContainerSpec,
    Index,
    NotFound,
    PreconditionFailed,
    Query,
    batch_create,
    batch_replace,
    batch_upsert,
    container_register,
    patch_incr,
    patch_set,
    store,
)
from evaapi.store import query as q
from evaapi.store.base import MAX_BATCH_OPERATIONS
from evaapi.store.query import MAX_LIMIT
from webhooks.domain import AttemptLog, DeadLetter, Delivery, DeliveryStatus, WebhookEndpoint

# A tenant's endpoints together: the fan-out of an event reads them in one query.
WEBHOOKS = outbox_container_register(container_register(
    ContainerSpec(
        name="webhooks",
        partition_key="/tenant_id",
        filter_fields=("active", "outbox_pending", "updated_at"),
        indexes=(Index(equality=("active",), order=(("created_at", "desc"),)), OUTBOX_INDEX),
        orderings=((("created_at", "desc"),),),
    )
))

# Partitioned by endpoint: its deliveries are listed, retried and recovered together, and one
# endpoint's volume never crowds a tenant's other data. The sweeper's cross-partition query for
# due deliveries is served by the (status, next_attempt_at) index, and so are an endpoint's open
# deliveries when it is paused, enabled or deleted.
DELIVERIES = container_register(
    ContainerSpec(
        name="webhook_deliveries",
        partition_key="/webhook_id",
        filter_fields=("status", "next_attempt_at", "created_at"),
        indexes=(
            Index(equality=("status",), order=(("next_attempt_at", "asc"),)),
            Index(equality=("status",), order=(("created_at", "desc"),)),
        ),
        orderings=((("created_at", "desc"),),),
    )
)

LOGS = container_register(
    ContainerSpec(
        name="webhook_logs",
        partition_key="/webhook_id",
        default_ttl=-1,  # each log carries its own ttl, from WEBHOOK_LOG_TTL_DAYS
        filter_fields=("outcome", "event_type", "delivery_id"),
        orderings=((("attempted_at", "desc"),),),
        indexes=(
            Index(equality=("outcome",), order=(("attempted_at", "desc"),)),
            Index(equality=("event_type",), order=(("attempted_at", "desc"),)),
            Index(equality=("delivery_id",), order=(("attempted_at", "desc"),)),
        ),
    )
)

DEAD_LETTERS = container_register(
    ContainerSpec(
        name="webhook_dead_letter_queue",
        partition_key="/tenant_id",
        filter_fields=("webhook_id",),
        orderings=((("failed_at", "desc"),),),
        indexes=(Index(equality=("webhook_id",), order=(("failed_at", "desc"),)),),
    )
)

# The next_attempt_at stored for a parked delivery (its endpoint paused or disabled): later than
# any time the due query asks for, so however many an endpoint parks, the sweeper never reads
# them. next_attempt_at is an index's sort field, which every item must carry (None cannot be
# stored); the records show it as None: no attempt is scheduled.
NEXT_ATTEMPT_PARKED = "9999-12-31T23:59:59.999999Z"

_ENDPOINT_FIELDS = tuple(name for name in WebhookEndpoint.__dataclass_fields__ if name != "etag")
_DELIVERY_FIELDS = tuple(name for name in Delivery.__dataclass_fields__ if name != "etag")
_DEAD_LETTER_FIELDS = tuple(name for name in DeadLetter.__dataclass_fields__ if name != "etag")


# --- endpoints ---------------------------------------------------------------------------------
def endpoint_from_item(item: dict) -> WebhookEndpoint:
    space_ids = item.get("space_ids")
    return record_from_item(WebhookEndpoint, item, _ENDPOINT_FIELDS, event_types=tuple(item["event_types"]),
                            space_ids=tuple(space_ids) if space_ids is not None else None,
                            **{counter: item.get(counter) or 0
                               for counter in ("successes", "failures", "consecutive_failures")})


def endpoint_item(endpoint: WebhookEndpoint, *, secret_encrypted: str) -> dict:
    item = {name: getattr(endpoint, name) for name in _ENDPOINT_FIELDS}
    item["event_types"] = list(endpoint.event_types)
    item["space_ids"] = list(endpoint.space_ids) if endpoint.space_ids is not None else None
    item["secret_encrypted"] = secret_encrypted
    item["previous_secret_encrypted"] = None
    return item


def endpoint_insert(item: dict) -> dict:
    return store().container(WEBHOOKS).create(item)


def endpoint_item_read(*, tenant_id: str, webhook_id: str) -> dict:
    return store().container(WEBHOOKS).read(webhook_id, partition_key=tenant_id)


def endpoint_replace(item: dict, *, etag: str) -> dict:
    return store().container(WEBHOOKS).replace(item, etag=etag)


def endpoint_delete(*, tenant_id: str, webhook_id: str) -> None:
    with contextlib.suppress(NotFound):
        store().container(WEBHOOKS).delete(webhook_id, partition_key=tenant_id)


def endpoint_page(*, tenant_id: str, limit: int, continuation: str | None):
    page = store().container(WEBHOOKS).query(
        Query(order_by=(("created_at", "desc"),), limit=limit, continuation=continuation), partition_key=tenant_id
    )
    return [endpoint_from_item(item) for item in page.items], page.continuation


def endpoint_items_by_ids(*, webhook_ids) -> list[dict]:
    """Those of these endpoints (of any tenant) that exist: one query across partitions."""
    ids = list(dict.fromkeys(webhook_ids))
    if not ids:
        return []
    return store().container(WEBHOOKS).query(Query(filters=(q.in_("id", ids),), limit=len(ids)),
                                             partition_key=None).items


def endpoints_active(*, tenant_id: str) -> list[dict]:
    """Every active endpoint of the tenant (the fan-out's one query)."""
    container, items, continuation = store().container(WEBHOOKS), [], None
    while True:
        page = container.query(Query(filters=(q.eq("active", True),), order_by=(("created_at", "desc"),),
                                     limit=1000, continuation=continuation), partition_key=tenant_id)
        items += page.items
        continuation = page.continuation
        if continuation is None:
            return items


def endpoint_stats_record(*, tenant_id: str, webhook_id: str, successes: int, failures: int,
                          trailing_failures: int, at: str, failing_since: str | None) -> dict | None:
    """Counts attempts' outcomes in the endpoint's stats: one atomic patch (increments, not a
    read-modify-write), so concurrent workers lose no update. `trailing_failures` are those after
    the last success (all of them when none succeeded): the streak restarts from them after a
    success, and grows by them otherwise."""
    operations = []
    if successes:
        operations += [patch_incr("/successes", successes), patch_set("/last_success_at", at),
                       patch_set("/consecutive_failures", trailing_failures)]
    else:
        operations.append(patch_incr("/consecutive_failures", trailing_failures))
    if failures:
        operations += [patch_incr("/failures", failures), patch_set("/last_failure_at", at)]
    operations.append(patch_set("/failing_since", failing_since))
    try:
        return store().container(WEBHOOKS).patch(webhook_id, partition_key=tenant_id, operations=operations)
    except NotFound:
        return None  # deleted meanwhile


# --- deliveries --------------------------------------------------------------------------------
def delivery_from_item(item: dict) -> Delivery:
    next_attempt_at = item.get("next_attempt_at")
    return record_from_item(Delivery, item, _DELIVERY_FIELDS, status=DeliveryStatus(item["status"]),
                            next_attempt_at=None if next_attempt_at == NEXT_ATTEMPT_PARKED else next_attempt_at)


def delivery_item(delivery: Delivery) -> dict:
    item = {name: getattr(delivery, name) for name in _DELIVERY_FIELDS}
    item["status"] = str(delivery.status)
    item["next_attempt_at"] = delivery.next_attempt_at or NEXT_ATTEMPT_PARKED
    return item


def delivery_insert(item: dict) -> bool:
    """False when this (event, endpoint) delivery exists already: fan-out is idempotent."""
    try:
        store().container(DELIVERIES).create(item)
    except Conflict:
        return False
    return True


def delivery_item_read(*, webhook_id: str, delivery_id: str) -> dict:
    return store().container(DELIVERIES).read(delivery_id, partition_key=webhook_id)


def delivery_replace(item: dict, *, etag: str) -> dict:
    return store().container(DELIVERIES).replace(item, etag=etag)


def deliveries_items_read(*, webhook_id: str, delivery_ids) -> list[dict]:
    """Those of the ids that exist, in one query per thousand."""
    ids, items, container = list(dict.fromkeys(delivery_ids)), [], store().container(DELIVERIES)
    for start in range(0, len(ids), MAX_LIMIT):
        chunk = ids[start:start + MAX_LIMIT]
        items += container.query(Query(filters=(q.in_("id", chunk),), limit=len(chunk)),
                                 partition_key=webhook_id).items
    return items


def deliveries_replace(items: list[dict], *, webhook_id: str) -> list[dict | None]:
    """Each item written if unchanged since it was read (its `_etag`), in batches: None in place
    of one that changed or went meanwhile. A batch is all-or-nothing, so on such an item it is
    sent again without it."""
    container, written = store().container(DELIVERIES), [None] * len(items)
    for start in range(0, len(items), MAX_BATCH_OPERATIONS):
        pending = list(range(start, min(start + MAX_BATCH_OPERATIONS, len(items))))
        while pending:
            try:
                results = container.batch([batch_replace(items[n], etag=items[n]["_etag"]) for n in pending],
                                          partition_key=webhook_id)
            except (PreconditionFailed, NotFound) as exc:
                if exc.operation_index is None:
                    raise
                del pending[exc.operation_index]
                continue
            for n, result in zip(pending, results, strict=True):
                written[n] = result
            break
    return written


def delivery_page(*, webhook_id: str, status: str | None, limit: int, continuation: str | None):
    filters = (q.eq("status", status),) if status else ()
    page = store().container(DELIVERIES).query(
        Query(filters=filters, order_by=(("created_at", "desc"),), limit=limit, continuation=continuation),
        partition_key=webhook_id,
    )
    return [delivery_from_item(item) for item in page.items], page.continuation


def delivery_items_of_endpoints(*, webhook_ids, status: str | None, limit: int) -> tuple[list[dict], bool]:
    """The newest `limit` deliveries of these endpoints together, newest first (one query across
    their partitions), and whether there are more."""
    filters = [q.in_("webhook_id", list(webhook_ids))]
    if status:
        filters.append(q.eq("status", status))
    page = store().container(DELIVERIES).query(
        Query(filters=tuple(filters), order_by=(("created_at", "desc"),), limit=limit), partition_key=None
    )
    return page.items, page.continuation is not None


def deliveries_due(*, status: DeliveryStatus, now: str, limit: int,
                   continuation: str | None = None) -> tuple[list[dict], str | None]:
    """Open deliveries of every endpoint whose next attempt is due, the longest due first."""
    page = store().container(DELIVERIES).query(
        Query(filters=(q.eq("status", str(status)), q.lte("next_attempt_at", now)),
              order_by=(("next_attempt_at", "asc"),), limit=limit, continuation=continuation),
        partition_key=None,
    )
    return page.items, page.continuation


def deliveries_open_page(*, webhook_id: str, status: DeliveryStatus, parked: bool | None, limit: int,
                         continuation: str | None) -> tuple[list[dict], str | None]:
    """An endpoint's deliveries of an open status: only the parked ones (True), only those not
    parked (False), or both (None)."""
    filters = [q.eq("status", str(status))]
    if parked is True:
        filters.append(q.eq("next_attempt_at", NEXT_ATTEMPT_PARKED))
    elif parked is False:
        filters.append(q.lt("next_attempt_at", NEXT_ATTEMPT_PARKED))
    page = store().container(DELIVERIES).query(
        Query(filters=tuple(filters), order_by=(("next_attempt_at", "asc"),), limit=limit, continuation=continuation),
        partition_key=webhook_id,
    )
    return page.items, page.continuation


def deliveries_dead_between(*, webhook_id: str, since: str, until: str, limit: int,
                            continuation: str | None) -> tuple[list[dict], str | None]:
    page = store().container(DELIVERIES).query(
        Query(filters=(q.eq("status", str(DeliveryStatus.DEAD)), q.gte("created_at", since),
                       q.lt("created_at", until)),
              order_by=(("created_at", "desc"),), limit=limit, continuation=continuation),
        partition_key=webhook_id,
    )
    return page.items, page.continuation


# --- attempt logs ------------------------------------------------------------------------------
def logs_insert(logs: list[AttemptLog], *, webhook_id: str) -> None:
    """An endpoint's attempt logs, in batches."""
    ttl = settings.WEBHOOK_LOG_TTL_DAYS * 86400
    for start in range(0, len(logs), MAX_BATCH_OPERATIONS):
        store().container(LOGS).batch([batch_create({**asdict(log), "ttl": ttl})
                                       for log in logs[start:start + MAX_BATCH_OPERATIONS]], partition_key=webhook_id)


def log_page(*, webhook_id: str, outcome: str | None = None, event_type: str | None = None,
             delivery_id: str | None = None, limit: int,
             continuation: str | None) -> tuple[list[AttemptLog], str | None]:
    filters = []
    if delivery_id:
        filters.append(q.eq("delivery_id", delivery_id))
    if outcome:
        filters.append(q.eq("outcome", outcome))
    if event_type:
        filters.append(q.eq("event_type", event_type))
    page = store().container(LOGS).query(
        Query(filters=tuple(filters), order_by=(("attempted_at", "desc"),), limit=limit, continuation=continuation),
        partition_key=webhook_id,
    )
    fields = AttemptLog.__dataclass_fields__
    return [AttemptLog(**{name: item.get(name) for name in fields}) for item in page.items], page.continuation


# --- dead letters ------------------------------------------------------------------------------
def dead_letter_from_item(item: dict) -> DeadLetter:
    return record_from_item(DeadLetter, item, _DEAD_LETTER_FIELDS)


def dead_letters_upsert(letters: list[DeadLetter], *, tenant_id: str) -> None:
    """One per delivery (its id): a delivery that dies again after a replay updates its letter."""
    for start in range(0, len(letters), MAX_BATCH_OPERATIONS):
        store().container(DEAD_LETTERS).batch(
            [batch_upsert({name: getattr(letter, name) for name in _DEAD_LETTER_FIELDS})
             for letter in letters[start:start + MAX_BATCH_OPERATIONS]], partition_key=tenant_id)


def dead_letter_item_read(*, tenant_id: str, letter_id: str) -> dict:
    return store().container(DEAD_LETTERS).read(letter_id, partition_key=tenant_id)


def dead_letter_replace(item: dict, *, etag: str) -> dict:
    return store().container(DEAD_LETTERS).replace(item, etag=etag)


def dead_letter_page(*, tenant_id: str, webhook_id: str | None, limit: int, continuation: str | None):
    filters = (q.eq("webhook_id", webhook_id),) if webhook_id else ()
    page = store().container(DEAD_LETTERS).query(
        Query(filters=filters, order_by=(("failed_at", "desc"),), limit=limit, continuation=continuation),
        partition_key=tenant_id,
    )
    return [dead_letter_from_item(item) for item in page.items], page.continuation
