"""The event types, each with the JSON Schema of its `data`. Data is thin: ids, statuses, names,
counts; never a file's contents or a secret."""

from functools import cache

from jsonschema import Draft202012Validator

_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_SPACE = {"space_id": _ID, "name": {"type": "string"}}
_DOCUMENT = {
    "document_id": _ID,
    "space_id": _ID,
    "filename": {"type": "string"},
    "status": {"type": "string"},
}


def _object(properties: dict, required: tuple[str, ...]) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


EVENT_TYPES: dict[str, dict] = {
    "space.created": _object(_SPACE, ("space_id", "name")),
    "space.updated": _object({**_SPACE, "changed": {"type": "array", "items": {"type": "string"}}},
                             ("space_id", "name", "changed")),
    "space.deleted": _object(_SPACE, ("space_id", "name")),
    "document.added": _object({**_DOCUMENT, "size_bytes": {"type": "integer", "minimum": 0}},
                              ("document_id", "space_id", "filename", "status", "size_bytes")),
    "document.processed": _object(
        {**_DOCUMENT, "page_count": {"type": ["integer", "null"]}, "char_count": {"type": "integer"},
         "chunk_count": {"type": "integer"}},
        ("document_id", "space_id", "filename", "status", "char_count", "chunk_count"),
    ),
    "document.failed": _object({**_DOCUMENT, "reason": {"type": "string"}},
                               ("document_id", "space_id", "filename", "status", "reason")),
    "document.deleted": _object(_DOCUMENT, ("document_id", "space_id", "filename", "status")),
    # Raised by the query and webhook parts as they land; declared here so filters and
    # subscriptions can name them already.
    "query.submitted": _object({"query_id": _ID, "space_id": _ID, "status": {"type": "string"}},
                               ("query_id", "space_id", "status")),
    "query.completed": _object({"query_id": _ID, "space_id": _ID, "status": {"type": "string"},
                                "citation_count": {"type": "integer"}}, ("query_id", "space_id", "status")),
    "query.failed": _object({"query_id": _ID, "space_id": _ID, "status": {"type": "string"},
                             "reason": {"type": "string"}}, ("query_id", "space_id", "status")),
    "query.cancelled": _object({"query_id": _ID, "space_id": _ID, "status": {"type": "string"}},
                               ("query_id", "space_id", "status")),
    "webhook.test": _object({"webhook_id": _ID}, ("webhook_id",)),
    "webhook.disabled": _object({"webhook_id": _ID, "url": {"type": "string"}, "reason": {"type": "string"}},
                                ("webhook_id", "url", "reason")),
}


class UnknownEventType(ValueError):
    pass


@cache
def _validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(EVENT_TYPES[event_type])


def event_data_check(event_type: str, data: dict) -> None:
    """Raises ValueError when `data` does not fit its type's schema: a programming error, caught
    before anything is written."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    errors = sorted(_validator(event_type).iter_errors(data), key=str)
    if errors:
        raise ValueError(f"{event_type} data does not fit its schema: {errors[0].message}")


def event_type_pattern_check(pattern: str) -> str:
    """A filter on event types: an exact type, a family (`space.*`) or everything (`*`).
    Raises UnknownEventType for a pattern that can match nothing in the catalogue."""
    if pattern == "*":
        return pattern
    if pattern.endswith(".*"):
        family = pattern[:-1]
        if any(name.startswith(family) for name in EVENT_TYPES):
            return pattern
    elif pattern in EVENT_TYPES:
        return pattern
    raise UnknownEventType(f"{pattern!r} names no event type; known: {', '.join(sorted(EVENT_TYPES))}")


def event_type_matches(patterns, event_type: str) -> bool:
    """Whether `event_type` is one `patterns` name (exact types, families, "*"); no patterns:
    every type."""
    if not patterns:
        return True
    return any(pattern == "*" or pattern == event_type or (pattern.endswith(".*") and event_type.startswith(
        pattern[:-1])) for pattern in patterns)
