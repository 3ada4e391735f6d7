"""The structured query both backends render: filters, ordering, limit, continuation.

Paging is keyset paging: the continuation token carries the sort values and id of the last
item returned, and the next page asks for what sorts strictly after it. Unlike OFFSET (which
Cosmos charges for and the emulator cannot parse) a page boundary stays put when items are
inserted concurrently, so every item present for the whole walk is returned exactly once."""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from evaapi.store.registry import ContainerSpec, Direction

Op = Literal["eq", "ne", "in", "lt", "lte", "gt", "gte", "startswith", "array_contains"]
Scalar = str | int | float | bool | None

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class InvalidQuery(ValueError):
    """A query the container's declaration does not allow, or a bad continuation token."""


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any


def eq(name: str, value: Scalar) -> Filter:
    return Filter(name, "eq", value)


def ne(name: str, value: Scalar) -> Filter:
    return Filter(name, "ne", value)


def in_(name: str, values) -> Filter:
    return Filter(name, "in", tuple(values))


def lt(name: str, value: Scalar) -> Filter:
    return Filter(name, "lt", value)


def lte(name: str, value: Scalar) -> Filter:
    return Filter(name, "lte", value)


def gt(name: str, value: Scalar) -> Filter:
    return Filter(name, "gt", value)


def gte(name: str, value: Scalar) -> Filter:
    return Filter(name, "gte", value)


def startswith(name: str, prefix: str) -> Filter:
    return Filter(name, "startswith", prefix)


def array_contains(name: str, value: Scalar) -> Filter:
    return Filter(name, "array_contains", value)


@dataclass(frozen=True)
class Query:
    filters: tuple[Filter, ...] = ()
    order_by: tuple[tuple[str, Direction], ...] = ()
    limit: int = DEFAULT_LIMIT
    continuation: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict]
    continuation: str | None


@dataclass(frozen=True)
class Keyset:
    """A validated query, ready to render: the full ordering (with the id tie-breaker) and,
    when continuing, the sort values of the last item already returned."""

    filters: tuple[Filter, ...]
    ordering: tuple[tuple[str, Direction], ...]
    limit: int
    after: tuple | None = None
    fingerprint: str = field(default="", compare=False)


def _field_ok(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def query_plan(spec: ContainerSpec, query: Query) -> Keyset:
    """Check `query` against the container's declaration and resolve its continuation."""
    for flt in query.filters:
        if not _field_ok(flt.field):
            raise InvalidQuery(f"bad field name {flt.field!r}")
        if flt.field not in (*spec.filter_fields, "id", spec.partition_field):
            raise InvalidQuery(f"{spec.name}: {flt.field!r} is not a declared filter field")
        if flt.op == "in" and not flt.value:
            raise InvalidQuery(f"{spec.name}: IN on {flt.field!r} needs at least one value")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
    ordering = _resolve_ordering(spec, query.order_by)
    fingerprint = _fingerprint(spec, query.filters, ordering)
    after = _decode_token(query.continuation, fingerprint, len(ordering)) if query.continuation else None
    return Keyset(query.filters, ordering, query.limit, after, fingerprint)


def _resolve_ordering(spec: ContainerSpec, order_by) -> tuple[tuple[str, Direction], ...]:
    order_by = tuple((name, direction) for name, direction in order_by)
    if not order_by:
        return (("id", "asc"),)
    for declared in spec.orderings:
        if order_by == declared:
            return spec.full_ordering(declared)
        if order_by == _reverse(declared):
            return _reverse(spec.full_ordering(declared))
    raise InvalidQuery(f"{spec.name}: ordering {order_by!r} is not declared")


def _reverse(ordering):
    return tuple((name, "desc" if direction == "asc" else "asc") for name, direction in ordering)


def _fingerprint(spec: ContainerSpec, filters, ordering) -> str:
    # A token only continues the query it came from: same container, filters and ordering.
    raw = json.dumps([spec.name, [[f.field, f.op, f.value] for f in filters], ordering], default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def token_encode(keyset: Keyset, last_item: dict) -> str:
    values = [item_value(last_item, name) for name, _ in keyset.ordering]
    raw = json.dumps({"f": keyset.fingerprint, "v": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str, width: int) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        values = data["v"]
        ok = data["f"] == fingerprint and isinstance(values, list) and len(values) == width
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise InvalidQuery("the continuation token is malformed or belongs to another query")
    return tuple(values)


def item_value(item: dict, dotted: str):
    value = item
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def page_from_rows(keyset: Keyset, rows: list[dict]) -> Page:
    """Backends fetch limit + 1 rows: the extra one only says whether a next page exists."""
    if len(rows) > keyset.limit:
        rows = rows[: keyset.limit]
        return Page(rows, token_encode(keyset, rows[-1]))
    return Page(rows, None)
