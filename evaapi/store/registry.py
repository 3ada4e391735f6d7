"""Containers are declared once, in code: each app registers its ContainerSpecs (in its
repositories module) and `manage.py init_store` creates them on the configured backend."""

from dataclasses import dataclass
from typing import Literal

Direction = Literal["asc", "desc"]


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
    """

    name: str
    partition_key: str
    default_ttl: int | None = None
    unique_keys: tuple[tuple[str, ...], ...] = ()
    filter_fields: tuple[str, ...] = ()
    orderings: tuple[tuple[tuple[str, Direction], ...], ...] = ()

    def __post_init__(self):
        if not self.partition_key.startswith("/") or "/" in self.partition_key[1:]:
            raise ValueError(f"{self.name}: partition_key must be a top-level path like '/tenant_id'")
        if self.default_ttl is not None and (self.default_ttl == 0 or self.default_ttl < -1):
            raise ValueError(f"{self.name}: default_ttl must be None, -1 or a positive number of seconds")

    @property
    def partition_field(self) -> str:
        return self.partition_key[1:]

    @property
    def sort_fields(self) -> set[str]:
        return {name for ordering in self.orderings for name, _ in ordering}

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
