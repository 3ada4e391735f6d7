"""GraphQL's own error shape: `{"errors": [{"message", "locations", "path", "extensions":
{"code", ...}}]}` (the project's REST error shape does not apply here). A service's error keeps
its code and message; anything unexpected is logged with its traceback and shown as
`internal_error`, never as a stack trace."""

import logging

from graphql import GraphQLError
from rest_framework.exceptions import ValidationError

from evaapi.exceptions import ServiceError
from evaapi.store import InvalidQuery, StoreUnavailable

logger = logging.getLogger("evaapi.graphql")


def error_formatted(error: GraphQLError) -> dict:
    original = error.original_error
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if original is None:
        extensions.setdefault("code", "graphql_error")
    elif isinstance(original, ServiceError):
        extensions.update(code=original.code, **({"details": original.details} if original.details else {}))
    elif isinstance(original, InvalidQuery):
        # A malformed cursor: the client's input, not a fault.
        formatted["message"] = "The cursor is malformed or belongs to another list."
        extensions["code"] = "validation_error"
    elif isinstance(original, StoreUnavailable):
        logger.warning("store unavailable during a GraphQL operation: %s", original)
        formatted["message"] = "The service is unavailable; try again shortly."
        extensions["code"] = "service_unavailable"
    else:
        logger.error("unexpected error in a GraphQL resolver at %s", error.path, exc_info=original)
        formatted["message"] = "An unexpected error occurred; it has been logged with this request id."
        extensions["code"] = "internal_error"
    formatted["extensions"] = extensions
    return formatted


def request_error(message: str, code: str, **extensions) -> dict:
    """An error of the request itself (no operation ran)."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def user_errors(exc: Exception) -> list[dict]:
    """The typed errors a mutation returns for bad input or a refused change: one per field
    named (camelCase, as in the schema), else one without a field."""
    if isinstance(exc, ValidationError):
        return [{"field": None if name == "non_field_errors" else _camel(name), "code": "invalid",
                 "message": " ".join(str(message) for message in _messages(messages))}
                for name, messages in _flat(exc.detail)]
    details = exc.details if isinstance(exc, ServiceError) else {}
    fields = [name for name, value in details.items() if isinstance(value, list)]
    if fields:
        return [{"field": _camel(name), "code": exc.code, "message": " ".join(map(str, details[name]))}
                for name in fields]
    return [{"field": None, "code": exc.code, "message": exc.message}]


def _flat(detail, prefix: str = ""):
    """(dotted field name, messages) pairs of a DRF error tree."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            yield from _flat(value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}")
    elif isinstance(detail, list) and detail and all(isinstance(value, dict) for value in detail):
        for index, value in enumerate(detail):
            yield from _flat(value, f"{prefix}.{index}")
    else:
        yield prefix or "non_field_errors", detail


def _messages(messages):
    return messages if isinstance(messages, list) else [messages]
