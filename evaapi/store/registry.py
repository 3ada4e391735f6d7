"""Containers are declared once, in code: each app registers its ContainerSpecs (in its
repositories module) and `manage.py init_store` creates them on the configured backend."""

from dataclasses import dataclass
from typing import Literal

Direction = Literal["asc", "desc"]
Ordering = tuple[tuple[str, Direction], ...]


def _field_name_ok(name) -> bool:
    return isinstance(name, str) and bool(name) and all(part.isidentifier() for part in name.split("."))


def _ordering_ok(ordering) -> bool:
    return (
        isinstance(ordering, tuple)
        and bool(ordering)
        and all(
            isinstance(entry, tuple) and len(entry) == 2 and _field_name_ok(entry[0]) and entry[1] in ("asc", "desc")
            for entry in ordering
        )
    )


@dataclass(frozen=True)
class Index:
    """An ordering served within the items that equality filters pin down: the index
    (equality fields..., order fields..., id) of the "items with status = X, newest first" kind.

    A query with an `eq` filter on every one of `equality` and `order_by` equal to `order`
    (or its exact reverse) reads this index in order: it seeks to the equality values and
    walks `limit` entries, however many items the partition holds. `order` may be used only
    with those filters, unless it is also one of the container's `orderings`.
    """

    equality: tuple[str, ...]
    order: Ordering

    def __post_init__(self):
        where = f"index {self.equality!r} {self.order!r}"
        if isinstance(self.equality, str) or not isinstance(self.equality, tuple | list):
            raise ValueError(f"{where}: equality is a tuple of field names, e.g. ('status',)")
        if isinstance(self.order, str) or not isinstance(self.order, tuple | list):
            raise ValueError(f"{where}: order is a tuple of (field, 'asc' | 'desc') pairs")
        # Lists are accepted and kept as tuples, so specs stay hashable and comparable.
        equality = tuple(self.equality)
        order = tuple(tuple(entry) if isinstance(entry, tuple | list) else entry for entry in self.order)
        object.__setattr__(self, "equality", equality)
        object.__setattr__(self, "order", order)
        if not equality or not all(_field_name_ok(name) for name in equality):
            raise ValueError(f"{where}: equality names one or more fields")
        if not _ordering_ok(order):
            raise ValueError(f"{where}: order is one or more (field, 'asc' | 'desc') pairs")
        fields = [*equality, *(name for name, _ in order)]
        if len(set(fields)) != len(fields):
            raise ValueError(f"{where}: a field appears twice")
        if "id" in fields:
            raise ValueError(f"{where}: id is the last field of every index already")

    def full_order(self, reverse: bool = False) -> Ordering:
        """The indexed fields in index order: equality fields ascending, the order, the id."""
        full = (*((name, "asc") for name in self.equality), *self.order, ("id", "asc"))
        return ordering_reverse(full) if reverse else full


def ordering_reverse(ordering: Ordering) -> Ordering:
    return tuple((name, "desc" if direction == "asc" else "asc") for name, direction in ordering)


@dataclass(frozen=True)
class ContainerSpec:
    """What a container is: its name, partition key and what it is filtered and sorted on.

    - partition_key: a top-level field, written as a path ("/tenant_id").
    - default_ttl: None = items never expire (an item's `ttl` is ignored, as in Cosmos);
      -1 = items expire only when they carry `ttl` (seconds); n > 0 = after n seconds unless
      the item's `ttl` says otherwise.
    - unique_keys: tuples of fields unique within a partition.
    - filter_fields: the fields queries may filter on (indexed by the SQLite backend).
    - orderings: the sort orders queries may use, e.g. (("created_at", "desc"),). `id` is
      appended to each as the tie-breaker; a query may also use an ordering's exact reverse.
      Every item must carry a non-null value for every field of every ordering.
    - indexes: orderings served within equality filters, for lists like "the documents with
      status = X, newest first" in a big partition:

          filter_fields=("status",),
          indexes=(Index(equality=("status",), order=(("created_at", "desc"),)),),

      indexes (pk, status, created_at desc, id): a query with eq("status", ...) and
      order_by (("created_at", "desc"),) (or its reverse) seeks to the status and reads its
      page in order, instead of sorting every matching item or walking the created_at index
      past the items of other statuses. Equality fields must be filter_fields (and are neither
      `id` nor the partition key, which every index already starts with); `order` follows the
      rules of `orderings` (its fields are sort fields; `id` is appended) and may be used only
      with an `eq` filter on every equality field, unless it is also one of `orderings`. A
      query that matches several indexes uses the one with the most equality fields.
    """

    name: str
    partition_key: str
    default_ttl: int | None = None
    unique_keys: tuple[tuple[str, ...], ...] = ()
    filter_fields: tuple[str, ...] = ()
    orderings: tuple[tuple[tuple[str, Direction], ...], ...] = ()
    indexes: tuple[Index, ...] = ()

    def __post_init__(self):
        if not self.partition_key.startswith("/") or "/" in self.partition_key[1:]:
            raise ValueError(f"{self.name}: partition_key must be a top-level path like '/tenant_id'")
        if self.default_ttl is not None and (self.default_ttl == 0 or self.default_ttl < -1):
            raise ValueError(f"{self.name}: default_ttl must be None, -1 or a positive number of seconds")
        if isinstance(self.indexes, Index):
            raise ValueError(f"{self.name}: indexes is a tuple of Index: (Index(...),)")
        object.__setattr__(self, "indexes", tuple(self.indexes))
        for index in self.indexes:
            self._check_index(index)
        if len(set(self.indexes)) != len(self.indexes):
            raise ValueError(f"{self.name}: an index is declared twice")

    def _check_index(self, index: Index) -> None:
        if not isinstance(index, Index):
            raise ValueError(f"{self.name}: indexes are Index(equality=(...), order=(...)), not {index!r}")
        where = f"{self.name}: {index!r}"
        if self.partition_field in (*index.equality, *(name for name, _ in index.order)):
            raise ValueError(f"{where}: the partition key starts every index already")
        undeclared = [name for name in index.equality if name not in self.filter_fields]
        if undeclared:
            raise ValueError(f"{where}: equality fields {undeclared} are not in filter_fields")

    @property
    def partition_field(self) -> str:
        return self.partition_key[1:]

    @property
    def sort_fields(self) -> set[str]:
        orderings = (*self.orderings, *(index.order for index in self.indexes))
        return {name for ordering in orderings for name, _ in ordering}

    def full_ordering(self, ordering: tuple[tuple[str, Direction], ...]) -> tuple[tuple[str, Direction], ...]:
        """The ordering with the id tie-breaker, as it is indexed and queried."""
        return (*ordering, ("id", "asc"))


_REGISTRY: dict[str, ContainerSpec] = {}


def container_register(spec: ContainerSpec) -> ContainerSpec:
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"container {spec.name!r} is declared twice, differently")
    _REGISTRY[spec.name] = spec
    return spec


def container_specs() -> list[ContainerSpec]:
    return sorted(_REGISTRY.values(), key=lambda spec: spec.name)


def container_spec(name: str) -> ContainerSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"container {name!r} is not registered") from None
