"""The store interface. Backends implement the underscore methods; the public methods add
what both must do the same way: validation, the 2 MB limit, partition key checks, Cosmos'
batch and patch limits, counting.

A call that breaks the rules documented here (and, for filters and continuation tokens, in
query.py) raises ValueError, or its subclass InvalidQuery for a query, before any I/O: both
backends refuse exactly the same calls, never with an error of their own."""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

from evaapi.store.errors import TooLarge
from evaapi.store.metrics import store_calls_record
from evaapi.store.query import Filter, Keyset, Page, Query, item_value, query_plan
from evaapi.store.registry import ContainerSpec

MAX_ITEM_BYTES = 2 * 1024 * 1024
# Cosmos DB's limits, which the store applies to the SQLite backend too.
MAX_BATCH_OPERATIONS = 100
MAX_PATCH_OPERATIONS = 10
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
        store_calls_record("create", self.spec.name)
        return self._create(item)

    def read(self, id: str, *, partition_key: str) -> dict:
        store_calls_record("read", self.spec.name)
        return self._read(id, partition_key)

    def upsert(self, item: dict) -> dict:
        item = self._prepare(item)
        store_calls_record("upsert", self.spec.name)
        return self._upsert(item)

    def replace(self, item: dict, *, etag: str | None = None) -> dict:
        """Replace the whole item; with `etag`, only if it is unchanged since (else PreconditionFailed)."""
        item = self._prepare(item)
        store_calls_record("replace", self.spec.name)
        return self._replace(item, etag)

    def patch(self, id: str, *, partition_key: str, operations, etag: str | None = None) -> dict:
        """Apply 1 to 10 operations in order; with `etag`, only if the item is unchanged since.

        A patch keeps what create and replace require of an item: it cannot touch a system
        field (_etag, _ts, ...), the id or the partition key, nor remove or null a field an
        ordering needs (or an object holding one). Paths are /field or /field/nested, each
        part an identifier; incr takes a number."""
        operations = tuple(operations)
        self._check_patch(operations)
        store_calls_record("patch", self.spec.name)
        return self._patch(id, partition_key, operations, etag)

    def delete(self, id: str, *, partition_key: str, etag: str | None = None) -> None:
        store_calls_record("delete", self.spec.name)
        self._delete(id, partition_key, etag)

    def query(self, query: Query, *, partition_key: str | None) -> Page:
        """One page. `partition_key=None` is an explicit cross-partition query."""
        keyset = query_plan(self.spec, query)
        store_calls_record("query", self.spec.name)
        return self._query(keyset, partition_key)

    def count(self, filters: tuple[Filter, ...] = (), *, partition_key: str | None) -> int:
        keyset = query_plan(self.spec, Query(filters=tuple(filters)))
        store_calls_record("count", self.spec.name)
        return self._count(keyset.filters, partition_key)

    def batch(self, operations, *, partition_key: str) -> list[dict | None]:
        """All operations in one partition, atomically: if one fails, none is applied and its
        error is raised with `operation_index` set. Returns each operation's resulting item
        (None for a delete). At most 100 operations (Cosmos' limit), each checked as its
        single-item form is (create, replace, patch, ...)."""
        operations = list(operations)
        if len(operations) > MAX_BATCH_OPERATIONS:
            raise ValueError(
                f"{self.spec.name}: a batch holds at most {MAX_BATCH_OPERATIONS} operations; got {len(operations)}"
            )
        prepared = []
        for op in operations:
            if op.item is not None:
                item = self._prepare(op.item)
                if self.partition_value(item) != partition_key:
                    raise ValueError("every item of a batch must be in the batch's partition")
                op = BatchOp(op.kind, item, op.id, op.etag, op.operations)
            elif op.kind == "patch":
                self._check_patch(op.operations)
            prepared.append(op)
        if not prepared:
            return []
        store_calls_record("batch", self.spec.name)
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
            if item_value(item, name) is None:
                raise ValueError(f"{self.spec.name}: sort field {name!r} must be present and not null")
        item_check_size(item)
        return item

    def _check_patch(self, operations: tuple[PatchOp, ...]) -> None:
        """For patch operations, what _prepare checks of a whole item (see `patch`)."""
        if not operations:
            raise ValueError(f"{self.spec.name}: a patch needs at least one operation")
        if len(operations) > MAX_PATCH_OPERATIONS:
            raise ValueError(
                f"{self.spec.name}: a patch holds at most {MAX_PATCH_OPERATIONS} operations; got {len(operations)}"
            )
        for op in operations:
            self._check_patch_op(op)

    def _check_patch_op(self, op: PatchOp) -> None:
        where = f"{self.spec.name}: patch {op.op} {op.path!r}"
        parts = op.path.split("/") if isinstance(op.path, str) else []
        # Identifiers only: no array indexes or JSON pointer escapes, which the backends do not
        # apply alike.
        if len(parts) < 2 or parts[0] or not all(part.isidentifier() for part in parts[1:]):
            raise ValueError(f"{where}: a path is /field or /field/nested, each part an identifier")
        if op.op not in ("set", "incr", "remove"):
            raise ValueError(f"{where}: unknown operation")
        if parts[1] in SYSTEM_FIELDS:
            raise ValueError(f"{where}: system fields are written by the store")
        if parts[1] in ("id", self.spec.partition_field):
            # SQLite would write the result under another id or partition; Cosmos refuses it.
            raise ValueError(f"{where}: an item's id and partition key never change")
        if op.op == "incr" and (isinstance(op.value, bool) or not isinstance(op.value, int | float)):
            raise ValueError(f"{where}: incr takes a number")
        field = ".".join(parts[1:])
        for name in self.spec.sort_fields:
            if name != field and not name.startswith(field + "."):
                continue
            # The operation writes the sort field, or an object that holds it: keyset paging
            # needs every item to keep a value there.
            written = op.value if name == field else item_value(op.value, name[len(field) + 1 :])
            if op.op == "remove" or (op.op == "set" and written is None):
                raise ValueError(f"{where}: sort field {name!r} must stay present and not null")

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
