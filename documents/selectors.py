"""Reads of documents. Another tenant's document, a deleted one and a missing one are the same 404."""

import uuid

from documents import repositories
from documents.domain import Document, DocumentChunk, DocumentStatus
from evaapi.auth.domain import Tenant
from evaapi.exceptions import ResourceNotFound
from evaapi.store import NotFound
from spaces.selectors import space_get


def document_item_get(*, tenant: Tenant, document_id: str) -> dict:
    try:
        uuid.UUID(document_id)
        item = repositories.document_item_read(tenant_id=tenant.id, document_id=document_id)
    except (ValueError, NotFound):
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
