"""Reads of events: a tenant's recent events, newest first; what a subscriber missed."""

from django.conf import settings

from evaapi.auth.domain import Tenant
from evaapi.events import repositories
from evaapi.events.catalogue import UnknownEventType, event_type_matches, event_type_pattern_check
from evaapi.events.domain import Event
from evaapi.exceptions import InvalidInput, ResourceNotFound
from evaapi.store import query as q


def event_list(
    *, tenant: Tenant, type_pattern: str | None = None, type_patterns=None, space_id: str | None = None, limit: int,
    continuation: str | None,
) -> tuple[list[Event], str | None]:
    """`type_pattern`: an exact type, a family (`space.*`) or `*`. `type_patterns`: several
    exact types, or one pattern (a family cannot be combined: the store has no OR of prefixes)."""
    patterns = list(dict.fromkeys(type_patterns or ([type_pattern] if type_pattern else [])))
    for pattern in patterns:
        try:
            event_type_pattern_check(pattern)
        except UnknownEventType as exc:
            raise InvalidInput(str(exc), details={"type": [str(exc)]}) from None
    filters = []
    if not patterns or "*" in patterns:
        pass  # every type
    elif len(patterns) == 1:
        pattern = patterns[0]
        filters.append(q.startswith("type", pattern[:-1]) if pattern.endswith(".*") else q.eq("type", pattern))
    elif any(pattern.endswith(".*") for pattern in patterns):
        message = "Several types must all be exact names; a family (space.*) comes alone."
        raise InvalidInput(message, details={"type": [message]})
    else:
        filters.append(q.in_("type", patterns))
    if space_id:
        filters.append(q.eq("space_id", space_id))
    return repositories.event_page(tenant_id=tenant.id, filters=tuple(filters), limit=limit,
                                   continuation=continuation)


def events_after(*, tenant: Tenant, event_id: str, type_patterns=None, limit: int | None = None) -> list[Event]:
    """The tenant's recorded events after `event_id`, oldest first, of these types (exact,
    families or *): what a subscriber missed. At most `limit` (GRAPHQL_WS_REPLAY_MAX); more is an
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
            if event_type_matches(type_patterns, event.type):
                missed.append(event)
        if len(missed) > limit or scanned > 10 * limit:
            raise InvalidInput(f"More than {limit} events since that one: resume from a later event, or read "
                               "GET /api/v1/events.", details={"after": ["Too far behind."]})
        if continuation is None:
            return missed
