"""The production backend: Azure Cosmos DB through the azure-cosmos SDK.

Queries are rendered to parameterised Cosmos SQL inside the subset both Cosmos and the local
emulator run: no OFFSET, DISTINCT, GROUP BY or LIKE; TOP plus keyset paging instead."""

import itertools
import logging

from azure.core import MatchConditions
from azure.core.exceptions import AzureError
from azure.cosmos import CosmosClient, PartitionKey
from azure.cosmos import exceptions as cosmos_errors

from evaapi.store.base import BatchOp, Container, InitResult, PatchOp, Store, StoreMismatch
from evaapi.store.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
    TooLarge,
)
from evaapi.store.metrics import store_calls_charge
from evaapi.store.query import Filter, Keyset, Query, page_from_rows, query_plan
from evaapi.store.registry import ContainerSpec

logger = logging.getLogger(__name__)

_SDK_ERRORS = (cosmos_errors.CosmosHttpResponseError, cosmos_errors.CosmosBatchOperationError, AzureError)
_SDK_FIELDS = ("_rid", "_self", "_attachments")
_STATUS_ERRORS = {404: NotFound, 409: Conflict, 412: PreconditionFailed, 413: TooLarge}
_COMPARISONS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _error(exc: Exception) -> StoreError:
    """The store's error for one of _SDK_ERRORS (the SDK has already retried 429s and 503s)."""
    operation_index = None
    if isinstance(exc, cosmos_errors.CosmosHttpResponseError | cosmos_errors.CosmosBatchOperationError):
        status = exc.status_code
        if isinstance(exc, cosmos_errors.CosmosBatchOperationError):
            operation_index = exc.error_index
        cls = _STATUS_ERRORS.get(status)
        if cls is not None:
            return cls(f"cosmos: {status}", operation_index=operation_index)
        if status in (408, 429, 449) or (status or 500) >= 500:
            return StoreUnavailable(f"cosmos: {status} {exc}", operation_index=operation_index)
        # Any other refusal (400 above all: a query or operation Cosmos cannot run) is a bug
        # to fix, not an outage to wait out: logged with what Cosmos said, answered 500.
        logger.error("cosmos refused the request: %s %s", status, _detail(exc))
        return StoreError(f"cosmos: {status} {exc}", operation_index=operation_index)
    # Any other AzureError: no answer at all (connection refused, timeout, ...).
    return StoreUnavailable(f"cosmos unreachable: {exc}")


def _detail(exc) -> str:
    """What Cosmos said; for a batch, the failing operation's own answer too."""
    if isinstance(exc, cosmos_errors.CosmosBatchOperationError):
        return f"{exc} {exc.operation_responses[exc.error_index]}"
    return str(exc)


def _charge(headers, _body=None) -> None:
    store_calls_charge(float(headers.get("x-ms-request-charge", 0) or 0))


def _clean(item: dict) -> dict:
    for name in _SDK_FIELDS:
        item.pop(name, None)
    return item


def _match(etag: str | None) -> dict:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}


def _ref(name: str) -> str:
    """A field in Cosmos SQL. Brackets, because a field may be named like a keyword (value, order, top)."""
    return "c" + "".join(f'["{part}"]' for part in name.split("."))


def _path(name: str) -> str:
    return "/" + name.replace(".", "/")


class _Params:
    """Query parameters, named @p0, @p1, ... in the order they are added."""

    def __init__(self):
        self.values: list[dict] = []

    def add(self, value) -> str:
        name = f"@p{len(self.values)}"
        self.values.append({"name": name, "value": value})
        return name


def _patch_operations(operations: tuple[PatchOp, ...]) -> list[dict]:
    rendered = []
    for op in operations:
        entry = {"op": op.op, "path": op.path}
        if op.op != "remove":
            entry["value"] = op.value
        rendered.append(entry)
    return rendered


class CosmosContainer(Container):
    def __init__(self, spec: ContainerSpec, client):
        super().__init__(spec)
        self.client = client

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, response_hook=_charge, **kwargs)
        except _SDK_ERRORS as exc:
            raise _error(exc) from exc

    # --- point operations -------------------------------------------------------------------
    def _create(self, item):
        return _clean(self._call(self.client.create_item, item))

    def _read(self, id, partition_key):
        return _clean(self._call(self.client.read_item, id, partition_key=partition_key))

    def _upsert(self, item):
        return _clean(self._call(self.client.upsert_item, item))

    def _replace(self, item, etag):
        return _clean(self._call(self.client.replace_item, item["id"], item, **_match(etag)))

    def _patch(self, id, partition_key, operations, etag):
        return _clean(
            self._call(self.client.patch_item, id, partition_key, _patch_operations(operations), **_match(etag))
        )

    def _delete(self, id, partition_key, etag):
        self._call(self.client.delete_item, id, partition_key=partition_key, **_match(etag))

    # --- queries ----------------------------------------------------------------------------
    def _where(self, filters: tuple[Filter, ...], partition_key: str | None, params: "_Params") -> list[str]:
        clauses = []
        if partition_key is not None:
            # Sent as the request's partition key too; in the text as well, so the query means
            # the same wherever it runs.
            clauses.append(f"{_ref(self.spec.partition_field)} = {params.add(partition_key)}")
        # Cosmos SQL already compares only values of the same JSON type (across types the
        # result is undefined, which no WHERE matches): the store's filter semantics as they are.
        for flt in filters:
            field = _ref(flt.field)
            if flt.op == "is_null":
                clauses.append(f"IS_NULL({field})")
            elif flt.op == "is_missing":
                clauses.append(f"NOT IS_DEFINED({field})")
            elif flt.op == "in":
                clauses.append(f"{field} IN ({', '.join(params.add(v) for v in flt.value)})")
            elif flt.op == "startswith":
                clauses.append(f"STARTSWITH({field}, {params.add(flt.value)})")
            elif flt.op == "array_contains":
                clauses.append(f"ARRAY_CONTAINS({field}, {params.add(flt.value)})")
            else:
                clauses.append(f"{field} {_COMPARISONS[flt.op]} {params.add(flt.value)}")
        return clauses

    def _after(self, keyset: Keyset, params: "_Params") -> str:
        """Items strictly after the last one returned, in the query's ordering. The first
        field's bound (`<=` or `>=`), implied by the alternatives, comes first: a range filter
        an index can serve, as on the SQLite backend."""
        alternatives = []
        for i, (name, direction) in enumerate(keyset.ordering):
            parts = [f"{_ref(prev)} = {params.add(keyset.after[j])}" for j, (prev, _) in enumerate(keyset.ordering[:i])]
            parts.append(f"{_ref(name)} {'>' if direction == 'asc' else '<'} {params.add(keyset.after[i])}")
            alternatives.append("(" + " AND ".join(parts) + ")")
        clause = "(" + " OR ".join(alternatives) + ")"
        if len(keyset.ordering) > 1:
            first, direction = keyset.ordering[0]
            bound = f"{_ref(first)} {'>=' if direction == 'asc' else '<='} {params.add(keyset.after[0])}"
            clause = f"({bound} AND {clause})"
        return clause

    def _run(self, sql: str, params: "_Params", partition_key: str | None, limit: int) -> list:
        if partition_key is not None:
            scope = {"partition_key": partition_key}
        else:
            scope = {"enable_cross_partition_query": True}
        try:
            results = self.client.query_items(
                sql, parameters=params.values, max_item_count=limit, response_hook=_charge, **scope
            )
            return list(itertools.islice(results, limit))
        except _SDK_ERRORS as exc:
            raise _error(exc) from exc

    def _select(self, keyset: Keyset, partition_key: str | None) -> tuple[str, "_Params"]:
        """The SQL text and parameters of one page. With an Index's equality prefix the
        ORDER BY starts with the equality-filtered fields, in the composite index's order:
        Cosmos serves a filter + ORDER BY from a composite index only when the ORDER BY starts
        with the filtered properties (see Keyset)."""
        params = _Params()
        clauses = self._where(keyset.filters, partition_key, params)
        if keyset.after is not None:
            clauses.append(self._after(keyset, params))
        top = params.add(keyset.limit + 1)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        order = ", ".join(f"{_ref(name)} {direction.upper()}" for name, direction in keyset.order_by)
        return f"SELECT TOP {top} * FROM c{where} ORDER BY {order}", params

    def _query(self, keyset: Keyset, partition_key):
        sql, params = self._select(keyset, partition_key)
        rows = self._run(sql, params, partition_key, keyset.limit + 1)
        return page_from_rows(keyset, [_clean(row) for row in rows])

    def rendered(self, query: Query, *, partition_key: str | None) -> tuple[str, list[dict]]:
        """The SQL text and parameters `query` sends (for tests and the bench)."""
        sql, params = self._select(query_plan(self.spec, query), partition_key)
        return sql, params.values

    def _count(self, filters, partition_key):
        params = _Params()
        clauses = self._where(filters, partition_key, params)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._run(f"SELECT VALUE COUNT(1) FROM c{where}", params, partition_key, 1)
        return rows[0] if rows else 0

    # --- batch ------------------------------------------------------------------------------
    def _batch(self, operations: list[BatchOp], partition_key: str):
        rendered = []
        for op in operations:
            options = {"if_match_etag": op.etag} if op.etag else {}
            if op.kind in ("create", "upsert"):
                rendered.append((op.kind, (op.item,), options))
            elif op.kind == "replace":
                rendered.append(("replace", (op.item["id"], op.item), options))
            elif op.kind == "delete":
                rendered.append(("delete", (op.id,), options))
            else:
                rendered.append(("patch", (op.id, _patch_operations(op.operations)), options))
        results = self._call(self.client.execute_item_batch, rendered, partition_key=partition_key)
        return [
            None if op.kind == "delete" else _clean(dict(result.get("resourceBody") or {}))
            for op, result in zip(operations, results, strict=True)
        ]


class CosmosStore(Store):
    backend = "cosmos"

    def __init__(self, *, endpoint: str, key: str | None, database: str):
        super().__init__()
        self.location = f"{endpoint} database {database}"
        if key:
            credential = key
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        try:
            self.client = CosmosClient(endpoint, credential=credential)
        except _SDK_ERRORS as exc:
            raise _error(exc) from exc
        self.database_name = database
        self.database = self.client.get_database_client(database)

    def _container(self, spec):
        return CosmosContainer(spec, self.database.get_container_client(spec.name))

    def init(self, specs):
        try:
            self.database = self.client.create_database_if_not_exists(self.database_name)
            return [self._init_container(spec) for spec in specs]
        except _SDK_ERRORS as exc:
            raise _error(exc) from exc

    def _init_container(self, spec: ContainerSpec) -> InitResult:
        declared = {
            "partitionKey": [spec.partition_key],
            "uniqueKeys": sorted([_path(f) for f in fields] for fields in spec.unique_keys),
        }
        options = {"indexing_policy": _indexing_policy(spec)}
        if spec.default_ttl is not None:
            options["default_ttl"] = spec.default_ttl
        try:
            properties = self.database.get_container_client(spec.name).read()
        except cosmos_errors.CosmosResourceNotFoundError:
            self.database.create_container(
                spec.name,
                partition_key=PartitionKey(path=spec.partition_key),
                unique_key_policy={"uniqueKeys": [{"paths": paths} for paths in declared["uniqueKeys"]]},
                **options,
            )
            return InitResult(spec.name, "created")
        existing = {
            "partitionKey": properties["partitionKey"]["paths"],
            "uniqueKeys": sorted(k["paths"] for k in properties.get("uniqueKeyPolicy", {}).get("uniqueKeys", [])),
        }
        if existing != declared:
            raise StoreMismatch(f"container {spec.name!r} exists as {existing}; the code declares {declared}")
        if properties.get("defaultTtl") != spec.default_ttl or not _same_composites(properties, options):
            # TTL and indexes can change in place; partition key and unique keys cannot.
            self.database.replace_container(
                spec.name, partition_key=PartitionKey(path=spec.partition_key), **options
            )
        return InitResult(spec.name, "exists")

    def _ping(self):
        try:
            self.database.read(response_hook=_charge)
        except _SDK_ERRORS as exc:
            raise _error(exc) from exc


def _indexing_policy(spec: ContainerSpec) -> dict:
    """Range indexes on everything (the default) plus a composite index per declared ordering,
    which Cosmos requires for ORDER BY on more than one field, and one per declared Index:
    (equality fields ascending, order, id), which serves eq filters on the equality fields
    with ORDER BY equality fields, order, id (or the exact reverse)."""
    orderings = [spec.full_ordering(ordering) for ordering in spec.orderings]
    orderings += [index.full_order() for index in spec.indexes]
    composites = [
        [{"path": _path(name), "order": direction + "ending"} for name, direction in ordering]
        for ordering in orderings
    ]
    return {
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}],
        "compositeIndexes": composites,
    }


def _same_composites(properties: dict, options: dict) -> bool:
    return properties.get("indexingPolicy", {}).get("compositeIndexes", []) == options["indexing_policy"][
        "compositeIndexes"
    ]
