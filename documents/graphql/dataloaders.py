"""The documents' DataLoaders: each batch is one store call in the tenant's partition."""

from functools import partial

from documents import selectors
from evaapi.concurrency import run_sync
from evaapi.graphql.relay import connection_make, first_check, page_connection, parent_pages_load
from evaapi.graphql.types import enum_value


async def documents_by_id_load(context, document_ids: list[str]) -> list:
    """Documents by id (None for one that is not a live document of the tenant)."""
    found = await run_sync(selectors.documents_by_id, tenant=context.tenant, document_ids=document_ids)
    return [found.get(document_id) for document_id in document_ids]


async def documents_of_spaces_load(context, keys: list[tuple]) -> list:
    """(space id, first, status) -> (the space's first documents, whether more follow)."""
    def read(*, parents, first, status):
        return selectors.documents_of_spaces(tenant=context.tenant, space_ids=parents, status=status, limit=first)

    return await parent_pages_load(keys, read)


async def space_documents_connection(context, *, space_id: str, first: int, after: str | None, status):
    """`Space.documents`: batched across the spaces of the response when it starts at the top
    (no `after`); a later page is read for its space alone."""
    from documents.graphql.types import DocumentConnection

    status = enum_value(status)
    if after is None:
        documents, more = await context.loader(documents_of_spaces_load).load((space_id, first_check(first), status))
        return connection_make(DocumentConnection, documents, has_next=more)
    read = partial(selectors.document_list, tenant=context.tenant, space_id=space_id, status=status)
    return await run_sync(page_connection, DocumentConnection, read, first=first, after=after)
