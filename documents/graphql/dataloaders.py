"""The documents' DataLoaders: each batch is one store call in the tenant's partition."""

from collections import defaultdict
from functools import partial

from documents import selectors
from evaapi.concurrency import run_sync
from evaapi.graphql.relay import connection_make, first_check, page_connection
from evaapi.graphql.types import enum_value


async def documents_by_id_load(context, document_ids: list[str]) -> list:
    """Documents by id (None for one that is not a live document of the tenant)."""
    found = await run_sync(selectors.documents_by_id, tenant=context.tenant, document_ids=document_ids)
    return [found.get(document_id) for document_id in document_ids]


async def documents_of_spaces_load(context, keys: list[tuple]) -> list:
    """(space id, first, status) -> (the space's first documents, whether more follow): the
    spaces asking for the same page size and status in one call."""
    groups = defaultdict(list)
    for space_id, first, status in keys:
        groups[(first, status)].append(space_id)
    pages = {}
    for (first, status), space_ids in groups.items():
        found = await run_sync(selectors.documents_of_spaces, tenant=context.tenant, space_ids=space_ids,
                               status=status, limit=first)
        pages.update({(space_id, first, status): page for space_id, page in found.items()})
    return [pages[key] for key in keys]


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
