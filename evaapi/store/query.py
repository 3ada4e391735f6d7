"""The structured query both backends render: filters, ordering, limit, continuation.

Paging is keyset paging: the continuation token carries the sort values and id of the last
item returned, and the next page asks for what sorts strictly after it. Unlike OFFSET (which
Cosmos charges for and the emulator cannot parse) a page boundary stays put when items are
inserted concurrently, so every item present for the whole walk is returned exactly once.

Filters mean the same on both backends. The rules are Cosmos DB's own (its SQL compares only
values of the same JSON type); the SQLite backend reproduces them, and the store refuses,
before any I/O, what falls outside them:
- A filter value is a string, a boolean or a number (finite; an integer within 64 bits). Never
  None, a list or an object: InvalidQuery.
- A value matches only values of its own type. eq("flag", True) matches true, not 1;
  eq("n", 0) matches 0 (and 0.0), not false; eq("s", "1") matches "1", not 1.
- ne, in, lt/lte/gt/gte and array_contains too: ne("flag", True) matches false only, never a
  value of another type, null, or a missing field. Range filters take a string or a number;
  startswith a string; the values of one `in_` are all of one kind.
- null and a missing field are asked for explicitly, and differ: is_null(name) matches items
  where the field is present and null, is_missing(name) items where it is absent.
"""

import base64
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from evaapi.store.registry import ContainerSpec, Direction, Ordering, ordering_reverse

Op = Literal["eq", "ne", "in", "lt", "lte", "gt", "gte", "startswith", "array_contains", "is_null", "is_missing"]
Scalar = str | int | float | bool
Kind = Literal["string", "number", "boolean"]
RANGE_OPS = ("lt", "lte", "gt", "gte")

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


def is_null(name: str) -> Filter:
    """The field is present and null."""
    return Filter(name, "is_null", None)


def is_missing(name: str) -> Filter:
    """The field is absent (not even null)."""
    return Filter(name, "is_missing", None)


def value_kind(value) -> Kind | None:
    """The kind of a value filters and continuation tokens may carry, or None for any other:
    null, lists, objects, NaN and infinities (not JSON), integers beyond 64 bits (SQLite cannot
    bind them). A bool is checked first: in Python it is also an int."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "number" if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return "number" if math.isfinite(value) else None
    return None


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
    when continuing, the sort values of the last item already returned.

    `prefix` is set when a declared Index serves the query: its equality fields, each pinned
    to one value by an `eq` filter, with the index's directions (reversed with the ordering).
    Among the items the filters match the prefix is one constant value, so it changes no
    order: the continuation token and the `after` condition are over `ordering` alone, and a
    token stays valid whether or not an index serves its query. The Cosmos backend renders
    ORDER BY prefix + ordering (`order_by`), the composite index's own order: Cosmos serves a
    filter + ORDER BY from a composite index only when the ORDER BY starts with the filtered
    properties. SQLite's planner reads the index in order past the `=`-pinned columns by
    itself, so that backend orders by `ordering`."""

    filters: tuple[Filter, ...]
    ordering: tuple[tuple[str, Direction], ...]
    limit: int
    after: tuple | None = None
    fingerprint: str = field(default="", compare=False)
    prefix: tuple[tuple[str, Direction], ...] = ()

    @property
    def order_by(self) -> tuple[tuple[str, Direction], ...]:
        """The full order of the index that serves the query: prefix + ordering."""
        return (*self.prefix, *self.ordering)


def _field_ok(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def query_plan(spec: ContainerSpec, query: Query) -> Keyset:
    """Check `query` against the container's declaration and resolve its continuation."""
    for flt in query.filters:
        _check_filter(spec, flt)
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
    ordering, prefix = _resolve_ordering(spec, query.order_by, query.filters)
    fingerprint = _fingerprint(spec, query.filters, ordering)
    after = _decode_token(query.continuation, fingerprint, ordering) if query.continuation else None
    return Keyset(query.filters, ordering, query.limit, after, fingerprint, prefix)


def _check_filter(spec: ContainerSpec, flt: Filter) -> None:
    """The filter semantics of the module docstring: what a backend could only answer
    differently from the other (or with an error of its own) is refused here."""
    where = f"{spec.name}: {flt.op} on {flt.field!r}"
    if not _field_ok(flt.field):
        raise InvalidQuery(f"bad field name {flt.field!r}")
    if flt.field not in (*spec.filter_fields, "id", spec.partition_field):
        raise InvalidQuery(f"{spec.name}: {flt.field!r} is not a declared filter field")
    if flt.op not in get_args(Op):
        raise InvalidQuery(f"{where}: unknown operator")
    if flt.op in ("is_null", "is_missing"):
        return
    values = flt.value if flt.op == "in" else (flt.value,)
    if not values:
        raise InvalidQuery(f"{where} needs at least one value")
    kinds = {value_kind(value) for value in values}
    if None in kinds:
        raise InvalidQuery(
            f"{where}: values are strings, numbers or booleans, not {values!r} "
            "(use is_null or is_missing for null and absent fields)"
        )
    if len(kinds) > 1:
        raise InvalidQuery(f"{where}: the values are not all of one kind")
    if flt.op in RANGE_OPS and kinds == {"boolean"}:
        raise InvalidQuery(f"{where}: a range compares strings or numbers")
    if flt.op == "startswith" and kinds != {"string"}:
        raise InvalidQuery(f"{where} takes a string")


def _resolve_ordering(spec: ContainerSpec, order_by, filters) -> tuple[Ordering, Ordering]:
    """The full ordering (with the id tie-breaker) and the prefix an Index puts before it.

    An Index serves the query when its order is order_by (or the exact reverse) and every
    one of its equality fields has an eq filter; of several, the one with the most equality
    fields. Otherwise a declared ordering does (no prefix). An Index's order without its eq
    filters is not declared: nothing would serve it."""
    order_by = tuple((name, direction) for name, direction in order_by)
    if not order_by:
        return (("id", "asc"),), ()
    pinned = {flt.field for flt in filters if flt.op == "eq"}
    serving = [
        index
        for index in spec.indexes
        if order_by in (index.order, ordering_reverse(index.order)) and set(index.equality) <= pinned
    ]
    best = max(serving, key=lambda index: len(index.equality), default=None)
    if best is not None:
        full = best.full_order(reverse=order_by != best.order)
        return full[len(best.equality) :], full[: len(best.equality)]
    for declared in spec.orderings:
        if order_by == declared:
            return spec.full_ordering(declared), ()
        if order_by == ordering_reverse(declared):
            return ordering_reverse(spec.full_ordering(declared)), ()
    needs = [index.equality for index in spec.indexes if order_by in (index.order, ordering_reverse(index.order))]
    if needs:
        wanted = " or ".join(repr(fields) for fields in needs)
        raise InvalidQuery(f"{spec.name}: ordering {order_by!r} is declared only with eq filters on {wanted}")
    raise InvalidQuery(f"{spec.name}: ordering {order_by!r} is not declared")


def _fingerprint(spec: ContainerSpec, filters, ordering) -> str:
    # A token only continues the query it came from: same container, filters and ordering.
    raw = json.dumps([spec.name, [[f.field, f.op, f.value] for f in filters], ordering], default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def token_encode(keyset: Keyset, last_item: dict) -> str:
    values = [item_value(last_item, name) for name, _ in keyset.ordering]
    raw = json.dumps({"f": keyset.fingerprint, "v": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str, ordering) -> tuple:
    """The sort values a token carries. It comes from the client, so anything but what
    token_encode writes for this query is InvalidQuery, never a backend's error."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, RecursionError):  # not base64, UTF-8 or JSON; nested too deep
        data = None
    values = data.get("v") if isinstance(data, dict) else None
    if not (isinstance(data, dict) and data.get("f") == fingerprint and _token_values_ok(values, ordering)):
        raise InvalidQuery("the continuation token is malformed or belongs to another query")
    return tuple(values)


def _token_values_ok(values, ordering) -> bool:
    """One value per field of the ordering, each one an item can sort on: a string, number or
    boolean (never null: items carry every sort field), and a string last (the id)."""
    return (
        isinstance(values, list)
        and len(values) == len(ordering)
        and all(value_kind(value) is not None for value in values)
        and isinstance(values[-1], str)
    )


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
