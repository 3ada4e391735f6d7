"""The store interface. Backends implement the underscore methods; the public methods add
what both must do the same way: validation, the 2 MB limit, partition key checks, counting."""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

from evaapi.store.errors import TooLarge
from evaapi.store.metrics import store_calls_record
from evaapi.store.query import Filter, Keyset, Page, Query, query_plan
from evaapi.store.registry import ContainerSpec

MAX_ITEM_BYTES = 2 * 1024 * 1024
# Written by the store, never taken from the caller.
SYSTEM_FIELDS = ("_etag", "_ts", "_rid", "_self", "_attachments")


@dataclass(frozen=True)
class PatchOp:
    op: Literal["set", "incr", "remove"]
    path: str  # "/field" or "/nested/field"
    value: Any = None


def patch_set(path: str, value) -> PatchOp:
    return PatchOp("set", path, value)


def patch_incr(path: str, by: int | float = 1) -> PatchOp:
    return PatchOp("incr", path, by)


def patch_remove(path: str) -> PatchOp:
    return PatchOp("remove", path)


@dataclass(frozen=True)
class BatchOp:
    kind: Literal["create", "upsert", "replace", "delete", "patch"]
    item: dict | None = None  # create, upsert, replace
    id: str | None = None  # delete, patch
    etag: str | None = None  # replace, delete, patch
    operations: tuple[PatchOp, ...] = ()  # patch


def batch_create(item: dict) -> BatchOp:
    return BatchOp("create", item=item)


def batch_upsert(item: dict) -> BatchOp:
    return BatchOp("upsert", item=item)


def batch_replace(item: dict, *, etag: str | None = None) -> BatchOp:
    return BatchOp("replace", item=item, etag=etag)


def batch_delete(id: str, *, etag: str | None = None) -> BatchOp:
    return BatchOp("delete", id=id, etag=etag)


def batch_patch(id: str, operations, *, etag: str | None = None) -> BatchOp:
    return BatchOp("patch", id=id, operations=tuple(operations), etag=etag)


def item_clean(item: dict) -> dict:
    return {key: value for key, value in item.items() if key not in SYSTEM_FIELDS}


def item_check_size(item: dict) -> None:
    size = len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_ITEM_BYTES:
        raise TooLarge(f"item is {size} bytes; the limit is {MAX_ITEM_BYTES}")


class Container(ABC):
    def __init__(self, spec: ContainerSpec):
        self.spec = spec

    # --- public interface -------------------------------------------------------------------
    def create(self, item: dict) -> dict:
        item = self._prepare(item)
        store_calls_record("create")
        return self._create(item)

    def read(self, id: str, *, partition_key: str) -> dict:
        store_calls_record("read")
        return self._read(id, partition_key)

    def upsert(self, item: dict) -> dict:
        item = self._prepare(item)
        store_calls_record("upsert")
        return self._upsert(item)

    def replace(self, item: dict, *, etag: str | None = None) -> dict:
        """Replace the whole item; with `etag`, only if it is unchanged since (else PreconditionFailed)."""
        item = self._prepare(item)
        store_calls_record("replace")
        return self._replace(item, etag)

    def patch(self, id: str, *, partition_key: str, operations, etag: str | None = None) -> dict:
        operations = tuple(operations)
        if not operations:
            raise ValueError("patch needs at least one operation")
        store_calls_record("patch")
        return self._patch(id, partition_key, operations, etag)

    def delete(self, id: str, *, partition_key: str, etag: str | None = None) -> None:
        store_calls_record("delete")
        self._delete(id, partition_key, etag)

    def query(self, query: Query, *, partition_key: str | None) -> Page:
        """One page. `partition_key=None` is an explicit cross-partition query."""
        keyset = query_plan(self.spec, query)
        store_calls_record("query")
        return self._query(keyset, partition_key)

    def count(self, filters: tuple[Filter, ...] = (), *, partition_key: str | None) -> int:
        keyset = query_plan(self.spec, Query(filters=tuple(filters)))
        store_calls_record("count")
        return self._count(keyset.filters, partition_key)

    def batch(self, operations, *, partition_key: str) -> list[dict | None]:
        """All operations in one partition, atomically: if one fails, none is applied and its
        error is raised with `operation_index` set. Returns each operation's resulting item
        (None for a delete)."""
        prepared = []
        for op in operations:
            if op.item is not None:
                item = self._prepare(op.item)
                if self.partition_value(item) != partition_key:
                    raise ValueError("every item of a batch must be in the batch's partition")
                op = BatchOp(op.kind, item, op.id, op.etag, op.operations)
            prepared.append(op)
        if not prepared:
            return []
        store_calls_record("batch")
        return self._batch(prepared, partition_key)

    def partition_value(self, item: dict) -> str:
        return item[self.spec.partition_field]

    def _prepare(self, item: dict) -> dict:
        item = item_clean(item)
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise ValueError(f"{self.spec.name}: item needs a non-empty string id")
        if not isinstance(item.get(self.spec.partition_field), str):
            raise ValueError(f"{self.spec.name}: item needs a string {self.spec.partition_field!r}")
        for name in self.spec.sort_fields:
            if item.get(name) is None:
                raise ValueError(f"{self.spec.name}: sort field {name!r} must be present and not null")
        item_check_size(item)
        return item

    # --- backend ----------------------------------------------------------------------------
    @abstractmethod
    def _create(self, item: dict) -> dict: ...

    @abstractmethod
    def _read(self, id: str, partition_key: str) -> dict: ...

    @abstractmethod
    def _upsert(self, item: dict) -> dict: ...

    @abstractmethod
    def _replace(self, item: dict, etag: str | None) -> dict: ...

    @abstractmethod
    def _patch(self, id: str, partition_key: str, operations: tuple[PatchOp, ...], etag: str | None) -> dict: ...

    @abstractmethod
    def _delete(self, id: str, partition_key: str, etag: str | None) -> None: ...

    @abstractmethod
    def _query(self, keyset: Keyset, partition_key: str | None) -> Page: ...

    @abstractmethod
    def _count(self, filters: tuple[Filter, ...], partition_key: str | None) -> int: ...

    @abstractmethod
    def _batch(self, operations: list[BatchOp], partition_key: str) -> list[dict | None]: ...


@dataclass(frozen=True)
class InitResult:
    name: str
    outcome: Literal["created", "exists"]


class StoreMismatch(Exception):
    """A container exists with a declaration that differs from the code's (e.g. partition key)."""


class Store(ABC):
    backend: str
    location: str  # where the data is, for operators (a file path, an endpoint and database)

    def __init__(self):
        self._containers: dict[str, Container] = {}

    def container(self, spec: ContainerSpec) -> Container:
        cached = self._containers.get(spec.name)
        if cached is None or cached.spec != spec:
            cached = self._containers[spec.name] = self._container(spec)
        return cached

    @abstractmethod
    def _container(self, spec: ContainerSpec) -> Container: ...

    @abstractmethod
    def init(self, specs: list[ContainerSpec]) -> list[InitResult]:
        """Create the database and each container if missing; raise StoreMismatch on a difference."""

    def ping(self) -> None:
        """Raise if the store cannot be reached (for /health/ready)."""
        store_calls_record("ping")
        self._ping()

    @abstractmethod
    def _ping(self) -> None: ...
