"""Reads of events: a tenant's recent events, newest first."""

from evaapi.auth.domain import Tenant
from evaapi.events import repositories
from evaapi.events.catalogue import UnknownEventType, event_type_pattern_check
from evaapi.events.domain import Event
from evaapi.exceptions import InvalidInput
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
