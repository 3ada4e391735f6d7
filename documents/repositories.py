"""Store access for documents and their chunks (the only module of the app that touches the store)."""

import contextlib
from dataclasses import asdict

from documents.domain import LISTED_STATUSES, Document, DocumentChunk, DocumentStatus
from evaapi.events.repositories import OUTBOX_INDEX, outbox_container_register
from evaapi.records import record_from_item
from evaapi.store import (
    ContainerSpec,
    Index,
    NotFound,
    Query,
    batch_delete,
    batch_upsert,
    container_register,
    store,
)
from evaapi.store import query as q

# Partitioned by tenant: GET /documents/{id} knows the tenant (from the credentials) and the id,
# so it is a point read; a space's documents are one partition's query.
DOCUMENTS = outbox_container_register(container_register(
    ContainerSpec(
        name="documents",
        partition_key="/tenant_id",
        # The same content twice in one space is refused; a deleted document frees its content.
        unique_keys=(("content_key",),),
        filter_fields=("space_id", "status", "content_key", "outbox_pending", "updated_at"),
        indexes=(
            # A space's documents, newest first: all of them, or those in one status.
            Index(equality=("space_id",), order=(("created_at", "desc"),)),
            Index(equality=("space_id", "status"), order=(("created_at", "desc"),)),
            # The sweeper's: documents long in one status; items with events still to relay.
            Index(equality=("status",), order=(("updated_at", "asc"),)),
            OUTBOX_INDEX,
        ),
        # Several spaces' documents in one query, newest first (GraphQL's nested lists).
        orderings=((("created_at", "desc"),),),
    )
))

# Partitioned by space, as retrieval reads a space's chunks together.
CHUNKS = container_register(
    ContainerSpec(
        name="document_chunks",
        partition_key="/space_id",
        filter_fields=("document_id", "index"),
        indexes=(Index(equality=("document_id",), order=(("index", "asc"),)),),
    )
)

# Cosmos DB runs at most 100 operations in one batch.
_BATCH = 100
_FIELDS = tuple(name for name in Document.__dataclass_fields__ if name != "etag")


def content_key(space_id: str, sha256: str) -> str:
    return f"{space_id}:{sha256}"


def document_from_item(item: dict) -> Document:
    return record_from_item(Document, item, _FIELDS, status=DocumentStatus(item["status"]))


def document_item(document: Document) -> dict:
    item = {name: getattr(document, name) for name in _FIELDS}
    item["status"] = str(document.status)
    item["content_key"] = content_key(document.space_id, document.sha256)
    return item


def document_insert(item: dict) -> dict:
    """Conflict when the space holds the same content already."""
    return store().container(DOCUMENTS).create(item)


def document_item_read(*, tenant_id: str, document_id: str) -> dict:
    return store().container(DOCUMENTS).read(document_id, partition_key=tenant_id)


def document_replace(item: dict, *, etag: str) -> dict:
    return store().container(DOCUMENTS).replace(item, etag=etag)


def document_delete(*, tenant_id: str, document_id: str) -> None:
    with contextlib.suppress(NotFound):  # gone already: what a repeated purge finds
        store().container(DOCUMENTS).delete(document_id, partition_key=tenant_id)


def document_by_content(*, tenant_id: str, space_id: str, sha256: str) -> Document | None:
    page = store().container(DOCUMENTS).query(
        Query(filters=(q.eq("content_key", content_key(space_id, sha256)),), limit=1), partition_key=tenant_id
    )
    return document_from_item(page.items[0]) if page.items else None


def document_page(*, tenant_id: str, space_id: str, status: str | None, limit: int, continuation: str | None):
    statuses = [status] if status else [str(s) for s in LISTED_STATUSES]
    page = store().container(DOCUMENTS).query(
        Query(filters=(q.eq("space_id", space_id), q.in_("status", statuses)), order_by=(("created_at", "desc"),),
              limit=limit, continuation=continuation),
        partition_key=tenant_id,
    )
    return [document_from_item(item) for item in page.items], page.continuation


def document_items_of_spaces(*, tenant_id: str, space_ids, status: str | None,
                             limit: int) -> tuple[list[dict], bool]:
    """The newest `limit` documents of these spaces together, newest first (one query), and
    whether there are more."""
    statuses = [status] if status else [str(s) for s in LISTED_STATUSES]
    page = store().container(DOCUMENTS).query(
        Query(filters=(q.in_("space_id", list(space_ids)), q.in_("status", statuses)),
              order_by=(("created_at", "desc"),), limit=limit),
        partition_key=tenant_id,
    )
    return page.items, page.continuation is not None


def document_items_by_ids(*, tenant_id: str, document_ids) -> list[dict]:
    """Those of the ids that exist, whatever their status (one query)."""
    ids = list(dict.fromkeys(document_ids))
    return store().container(DOCUMENTS).query(Query(filters=(q.in_("id", ids),), limit=len(ids)),
                                              partition_key=tenant_id).items


def document_count(*, tenant_id: str, space_id: str) -> int:
    """The space's documents that are not deleted."""
    return store().container(DOCUMENTS).count(
        (q.eq("space_id", space_id), q.in_("status", [str(s) for s in LISTED_STATUSES])), partition_key=tenant_id
    )


def document_items_of_space(*, tenant_id: str, space_id: str, limit: int) -> list[dict]:
    """Up to `limit` documents of the space, whatever their status (for purging it)."""
    page = store().container(DOCUMENTS).query(
        Query(filters=(q.eq("space_id", space_id),), order_by=(("created_at", "desc"),), limit=limit),
        partition_key=tenant_id,
    )
    return page.items


def document_items_in_status(*, tenant_id: str, space_id: str, status: DocumentStatus) -> list[dict]:
    """Every document of the space in `status` (all pages)."""
    container, items, continuation = store().container(DOCUMENTS), [], None
    while True:
        page = container.query(
            Query(filters=(q.eq("space_id", space_id), q.eq("status", str(status))),
                  order_by=(("created_at", "desc"),), limit=1000, continuation=continuation),
            partition_key=tenant_id,
        )
        items += page.items
        continuation = page.continuation
        if continuation is None:
            return items


def documents_in_status(*, status: DocumentStatus, changed_before: str, limit: int) -> list[dict]:
    """Documents of every tenant in `status`, unchanged since `changed_before` (for the sweeper)."""
    page = store().container(DOCUMENTS).query(
        Query(filters=(q.eq("status", str(status)), q.lt("updated_at", changed_before)),
              order_by=(("updated_at", "asc"),), limit=limit),
        partition_key=None,
    )
    return page.items


def chunks_write(chunks: list[DocumentChunk]) -> None:
    """Upserts in batches of one partition (the space); ids are deterministic, so writing a
    document's chunks again (a retried job) overwrites them."""
    container = store().container(CHUNKS)
    for start in range(0, len(chunks), _BATCH):
        part = chunks[start:start + _BATCH]
        container.batch([batch_upsert(asdict(chunk)) for chunk in part], partition_key=part[0].space_id)


def chunks_of_document(*, space_id: str, document_id: str, limit: int, continuation: str | None = None):
    page = store().container(CHUNKS).query(
        Query(filters=(q.eq("document_id", document_id),), order_by=(("index", "asc"),),
              limit=limit, continuation=continuation),
        partition_key=space_id,
    )
    return [DocumentChunk(**{k: item.get(k) for k in DocumentChunk.__dataclass_fields__}) for item in page.items], \
        page.continuation


def chunks_of_space(*, space_id: str, limit: int, continuation: str | None = None):
    """One page of every chunk in the space (by id), for building its retrieval index."""
    page = store().container(CHUNKS).query(Query(limit=limit, continuation=continuation), partition_key=space_id)
    return [DocumentChunk(**{k: item.get(k) for k in DocumentChunk.__dataclass_fields__}) for item in page.items], \
        page.continuation


def chunks_delete_after(*, space_id: str, document_id: str, index: int) -> int:
    """Deletes the document's chunks from `index` on (all of them with index 0); returns how many."""
    container = store().container(CHUNKS)
    deleted = 0
    while True:
        page = container.query(
            Query(filters=(q.eq("document_id", document_id), q.gte("index", index)),
                  order_by=(("index", "asc"),), limit=_BATCH),
            partition_key=space_id,
        )
        if not page.items:
            return deleted
        container.batch([batch_delete(item["id"]) for item in page.items], partition_key=space_id)
        deleted += len(page.items)


