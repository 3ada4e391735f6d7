"""Reads of events: a tenant's recent events, newest first."""

from evaapi.auth.domain import Tenant
from evaapi.events import repositories
from evaapi.events.catalogue import UnknownEventType, event_type_pattern_check
from evaapi.events.domain import Event
from evaapi.exceptions import InvalidInput
from evaapi.store import query as q


def event_list(
    *, tenant: Tenant, type_pattern: str | None = None, space_id: str | None = None, limit: int,
    continuation: str | None,
) -> tuple[list[Event], str | None]:
    """`type_pattern`: an exact type, a family (`space.*`) or `*`."""
    filters = []
    if type_pattern and type_pattern != "*":
        try:
            event_type_pattern_check(type_pattern)
        except UnknownEventType as exc:
            raise InvalidInput(str(exc), details={"type": [str(exc)]}) from None
        if type_pattern.endswith(".*"):
            filters.append(q.startswith("type", type_pattern[:-1]))
        else:
            filters.append(q.eq("type", type_pattern))
    if space_id:
        filters.append(q.eq("space_id", space_id))
    return repositories.event_page(tenant_id=tenant.id, filters=tuple(filters), limit=limit,
                                   continuation=continuation)
