"""Reads of documents. Another tenant's document, a deleted one and a missing one are the same 404."""

import uuid

from documents import repositories
from documents.domain import Document, DocumentChunk, DocumentStatus
from evaapi.auth.domain import Tenant
from evaapi.exceptions import ResourceNotFound
from evaapi.paging import pages_by_parent
from evaapi.store import NotFound
from evaapi.store.query import MAX_LIMIT
from spaces.selectors import space_get


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def document_item_get(*, tenant: Tenant, document_id: str) -> dict:
    if not _is_uuid(document_id):
        raise ResourceNotFound("No such document.")
    try:
        item = repositories.document_item_read(tenant_id=tenant.id, document_id=document_id)
    except NotFound:
        raise ResourceNotFound("No such document.") from None
    if item["status"] == DocumentStatus.DELETED:
        raise ResourceNotFound("No such document.")
    return item


def document_get(*, tenant: Tenant, document_id: str) -> Document:
    return repositories.document_from_item(document_item_get(tenant=tenant, document_id=document_id))


def document_list(*, tenant: Tenant, space_id: str, status: str | None = None, limit: int,
                  continuation: str | None) -> tuple[list[Document], str | None]:
    space = space_get(tenant=tenant, space_id=space_id)
    return repositories.document_page(tenant_id=tenant.id, space_id=space.id, status=status, limit=limit,
                                      continuation=continuation)


def document_chunks(*, tenant: Tenant, document_id: str, limit: int, continuation: str | None = None
                    ) -> tuple[list[DocumentChunk], str | None]:
    document = document_get(tenant=tenant, document_id=document_id)
    return repositories.chunks_of_document(space_id=document.space_id, document_id=document.id, limit=limit,
                                           continuation=continuation)


def documents_by_id(*, tenant: Tenant, document_ids) -> dict[str, Document]:
    """The tenant's documents among these ids (deleted ones left out), by id: one store call."""
    ids = [value for value in dict.fromkeys(document_ids) if _is_uuid(value)]
    if not ids:
        return {}
    items = repositories.document_items_by_ids(tenant_id=tenant.id, document_ids=ids)
    return {item["id"]: repositories.document_from_item(item) for item in items
            if item["status"] != DocumentStatus.DELETED}


def documents_of_spaces(*, tenant: Tenant, space_ids, status: str | None = None,
                        limit: int) -> dict[str, tuple[list[Document], bool]]:
    """The first `limit` documents (newest first) of each of these spaces of the tenant, and
    whether it has more: one store call for them all (see evaapi.paging.pages_by_parent)."""
    space_ids = list(dict.fromkeys(space_ids))
    items, truncated = repositories.document_items_of_spaces(tenant_id=tenant.id, space_ids=space_ids,
                                                             status=status, limit=MAX_LIMIT)

    def page_of(space_id: str) -> tuple[list[Document], bool]:
        documents, continuation = repositories.document_page(tenant_id=tenant.id, space_id=space_id, status=status,
                                                             limit=limit, continuation=None)
        return documents, continuation is not None

    return pages_by_parent(items, space_ids, parent_field="space_id", limit=limit, truncated=truncated,
                           page_of=page_of, convert=repositories.document_from_item)
