"""Reads of events: a tenant's recent events, newest first; what a subscriber missed."""

from django.conf import settings

from evaapi.auth import scopes
from evaapi.auth.domain import Principal, Tenant
from evaapi.events import repositories
from evaapi.events.catalogue import EVENT_TYPES, UnknownEventType, event_type_matches, event_type_pattern_check
from evaapi.events.domain import Event
from evaapi.exceptions import Forbidden, InvalidInput, ResourceNotFound
from evaapi.store import query as q

# Each family of events is read with the scope that reads what it describes (a family missing
# here is read by no one but admin: a new family is closed until it is named).
FAMILY_SCOPES = {
    "space": scopes.SPACES_READ,
    "document": scopes.DOCUMENTS_READ,
    "query": scopes.QUERIES_EXECUTE,
    "webhook": scopes.WEBHOOKS_MANAGE,
}


def _family(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def event_types_select(*, patterns=None, principal: Principal | None = None, field: str = "types") -> list[str]:
    """The event types `patterns` name (exact types, families like `space.*`, or `*`; none:
    every type) that `principal` may read (None: the platform's own reads, every type).
    InvalidInput (on `field`) for a pattern that names no type; Forbidden for one that names only types of
    families the principal's scopes do not read."""
    patterns = list(dict.fromkeys(patterns or ["*"]))
    for pattern in patterns:
        try:
            event_type_pattern_check(pattern)
        except UnknownEventType as exc:
            raise InvalidInput(str(exc), details={field: [str(exc)]}) from None

    def readable(event_type: str) -> bool:
        scope = FAMILY_SCOPES.get(_family(event_type), scopes.ADMIN)
        return principal is None or principal.has_scope(scope)

    for pattern in patterns:
        named = [event_type for event_type in EVENT_TYPES if event_type_matches([pattern], event_type)]
        if pattern != "*" and not any(readable(event_type) for event_type in named):
            needed = sorted({FAMILY_SCOPES.get(_family(event_type), scopes.ADMIN) for event_type in named})
            raise Forbidden(f"Reading {pattern} events needs the scope {' or '.join(needed)}.")
    return [event_type for event_type in EVENT_TYPES
            if event_type_matches(patterns, event_type) and readable(event_type)]


def event_list(
    *, tenant: Tenant, type_patterns=None, principal: Principal | None = None, field: str = "types",
    space_id: str | None = None, limit: int, continuation: str | None,
) -> tuple[list[Event], str | None]:
    """The tenant's events, newest first, of the types `type_patterns` name that `principal`
    may read (see event_types_select)."""
    types = event_types_select(patterns=type_patterns, principal=principal, field=field)
    filters = [] if len(types) == len(EVENT_TYPES) else [q.in_("type", types)]
    if space_id:
        filters.append(q.eq("space_id", space_id))
    return repositories.event_page(tenant_id=tenant.id, filters=tuple(filters), limit=limit,
                                   continuation=continuation)


def events_after(*, tenant: Tenant, event_id: str, types: list[str], limit: int | None = None) -> list[Event]:
    """The tenant's recorded events after `event_id`, oldest first, of these exact types (from
    event_types_select): what a subscriber missed. At most `limit` (GRAPHQL_WS_REPLAY_MAX); more is an
    InvalidInput: resume from a later event."""
    limit = limit or settings.GRAPHQL_WS_REPLAY_MAX
    after = repositories.event_read(tenant_id=tenant.id, event_id=event_id)
    if after is None:
        raise ResourceNotFound("No such event (events are kept EVENT_TTL_DAYS days).")
    missed, scanned, continuation = [], 0, None
    while True:
        items, continuation = repositories.event_items_since(tenant_id=tenant.id, timestamp=after.timestamp,
                                                             continuation=continuation)
        scanned += len(items)
        for event in items:
            # Events at the same timestamp as `after` sort by id, as the store does.
            if (event.timestamp, event.id) <= (after.timestamp, after.id):
                continue
            if event.type in types:
                missed.append(event)
        if len(missed) > limit or scanned > 10 * limit:
            raise InvalidInput(f"More than {limit} events since that one: resume from a later event, or read "
                               "GET /api/v1/events.", details={"after": ["Too far behind."]})
        if continuation is None:
            return missed
