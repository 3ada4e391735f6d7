"""Store access for queries and the spaces' retrieval index records (the only module of the
queries package that touches the store)."""

import contextlib
from dataclasses import asdict

from evaapi.events.repositories import OUTBOX_INDEX, outbox_container_register
from evaapi.records import record_from_item
from evaapi.store import Conflict, ContainerSpec, Index, NotFound, Query, container_register, patch_incr, store
from evaapi.store import query as q
from spaces.queries.domain import OPEN_STATUSES, QueryParameters, QueryStatus, SpaceIndexState
from spaces.queries.domain import Query as QueryRun

# Partitioned by space, as the design card says: a space's queries are listed together and go
# with it. A query read by id alone (GET /queries/{id}) is a cross-partition lookup by id.
QUERIES = outbox_container_register(container_register(
    ContainerSpec(
        name="queries",
        partition_key="/space_id",
        filter_fields=("tenant_id", "status", "outbox_pending", "updated_at", "deadline_at"),
        indexes=(
            Index(equality=("tenant_id",), order=(("created_at", "desc"),)),
            Index(equality=("tenant_id", "status"), order=(("created_at", "desc"),)),
            # The sweeper's: open queries past their deadline.
            Index(equality=("status",), order=(("deadline_at", "asc"),)),
            OUTBOX_INDEX,
        ),
    )
))

# One record per space: the version of its retrieval index that is wanted and the one built.
SPACE_INDEXES = container_register(
    ContainerSpec(name="space_indexes", partition_key="/tenant_id")
)

_FIELDS = tuple(name for name in QueryRun.__dataclass_fields__ if name != "etag")


def query_from_item(item: dict) -> QueryRun:
    parameters = dict(item["parameters"])
    if parameters.get("document_ids") is not None:
        parameters["document_ids"] = tuple(parameters["document_ids"])
    return record_from_item(QueryRun, item, _FIELDS, parameters=QueryParameters(**parameters),
                            status=QueryStatus(item["status"]))


def query_item(query: QueryRun) -> dict:
    item = {name: getattr(query, name) for name in _FIELDS}
    item["parameters"] = asdict(query.parameters)
    if query.parameters.document_ids is not None:
        item["parameters"]["document_ids"] = list(query.parameters.document_ids)
    item["status"] = str(query.status)
    return item


def query_insert(item: dict) -> dict:
    return store().container(QUERIES).create(item)


def query_item_find(*, tenant_id: str, query_id: str) -> dict | None:
    """The query with this id in any of the tenant's spaces (one cross-partition query)."""
    page = store().container(QUERIES).query(
        Query(filters=(q.eq("id", query_id), q.eq("tenant_id", tenant_id)), limit=1), partition_key=None
    )
    return page.items[0] if page.items else None


def query_item_read(*, space_id: str, query_id: str) -> dict:
    return store().container(QUERIES).read(query_id, partition_key=space_id)


def query_replace(item: dict, *, etag: str) -> dict:
    return store().container(QUERIES).replace(item, etag=etag)


def query_page(*, tenant_id: str, space_id: str, status: str | None, limit: int, continuation: str | None):
    filters = [q.eq("tenant_id", tenant_id)]
    if status:
        filters.append(q.eq("status", status))
    page = store().container(QUERIES).query(
        Query(filters=tuple(filters), order_by=(("created_at", "desc"),), limit=limit, continuation=continuation),
        partition_key=space_id,
    )
    return [query_from_item(item) for item in page.items], page.continuation


def query_items_of_spaces(*, tenant_id: str, space_ids, status: str | None,
                          limit: int) -> tuple[list[dict], bool]:
    """The newest `limit` queries of these spaces of the tenant together, newest first (one
    cross-partition query, served by the tenant's index), and whether there are more."""
    filters = [q.eq("tenant_id", tenant_id), q.in_("space_id", list(space_ids))]
    if status:
        filters.append(q.eq("status", status))
    page = store().container(QUERIES).query(
        Query(filters=tuple(filters), order_by=(("created_at", "desc"),), limit=limit), partition_key=None
    )
    return page.items, page.continuation is not None


def queries_open_count(*, tenant_id: str) -> int:
    """The tenant's pending and processing queries, in every space (one cross-partition count)."""
    return store().container(QUERIES).count(
        (q.eq("tenant_id", tenant_id), q.in_("status", [str(s) for s in OPEN_STATUSES])), partition_key=None
    )


def queries_overdue(*, status: QueryStatus, before: str, limit: int) -> list[dict]:
    page = store().container(QUERIES).query(
        Query(filters=(q.eq("status", str(status)), q.lt("deadline_at", before)),
              order_by=(("deadline_at", "asc"),), limit=limit),
        partition_key=None,
    )
    return page.items


def query_items_of_space(*, space_id: str, limit: int) -> list[dict]:
    page = store().container(QUERIES).query(Query(limit=limit), partition_key=space_id)
    return page.items


def query_delete(*, space_id: str, query_id: str) -> None:
    with contextlib.suppress(NotFound):  # gone already: what a repeated purge finds
        store().container(QUERIES).delete(query_id, partition_key=space_id)


# --- the spaces' retrieval index records -------------------------------------------------------
def _index_state(item: dict) -> SpaceIndexState:
    return SpaceIndexState(
        space_id=item["id"], tenant_id=item["tenant_id"], version=item["version"],
        built_version=item["built_version"], blob_name=item.get("blob_name"),
        chunk_count=item.get("chunk_count", 0), etag=item.get("_etag"),
    )


def index_state_read(*, tenant_id: str, space_id: str) -> SpaceIndexState | None:
    try:
        return _index_state(store().container(SPACE_INDEXES).read(space_id, partition_key=tenant_id))
    except NotFound:
        return None


def index_version_raise(*, tenant_id: str, space_id: str) -> SpaceIndexState:
    """Marks the space's index out of date (its documents changed): version + 1, atomically."""
    container = store().container(SPACE_INDEXES)
    try:
        return _index_state(container.patch(space_id, partition_key=tenant_id, operations=[patch_incr("/version")]))
    except NotFound:
        try:
            return _index_state(container.create({"id": space_id, "tenant_id": tenant_id, "version": 1,
                                                  "built_version": 0, "blob_name": None, "chunk_count": 0}))
        except Conflict:  # created meanwhile by another change: count this one on it
            return _index_state(container.patch(space_id, partition_key=tenant_id,
                                                operations=[patch_incr("/version")]))


def index_built_set(state: SpaceIndexState, *, built_version: int, blob_name: str, chunk_count: int
                    ) -> SpaceIndexState:
    """Records a built index, only on the record's version read (PreconditionFailed otherwise)."""
    item = {"id": state.space_id, "tenant_id": state.tenant_id, "version": state.version,
            "built_version": built_version, "blob_name": blob_name, "chunk_count": chunk_count}
    return _index_state(store().container(SPACE_INDEXES).replace(item, etag=state.etag))


def index_state_delete(*, tenant_id: str, space_id: str) -> None:
    with contextlib.suppress(NotFound):
        store().container(SPACE_INDEXES).delete(space_id, partition_key=tenant_id)
