"""The queries' DataLoaders: a batch of spaces' queries is one store call (one query over the
tenant's index, across the spaces' partitions)."""

from functools import partial

from evaapi.concurrency import run_sync
from evaapi.graphql.relay import connection_make, first_check, page_connection, parent_pages_load
from evaapi.graphql.types import enum_value
from spaces.queries import selectors


async def query_runs_of_spaces_load(context, keys: list[tuple]) -> list:
    """(space id, first, status) -> (the space's first queries, whether more follow)."""
    def read(*, parents, first, status):
        return selectors.queries_of_spaces(tenant=context.tenant, space_ids=parents, status=status, limit=first)

    return await parent_pages_load(keys, read)


async def space_query_runs_connection(context, *, space_id: str, first: int, after: str | None, status,
                                      cited_documents: bool):
    """`Space.queryRuns`: batched across the response's spaces from the top; a later page alone.
    With `cited_documents` (the operation asks for the answers' cited documents), those are
    loaded here, for every space's page in one batch, so each citation's `document` is at hand."""
    from documents.graphql.dataloaders import documents_by_id_load
    from spaces.queries.graphql.types import QueryRunConnection

    status = enum_value(status)
    if after is None:
        runs, more = await context.loader(query_runs_of_spaces_load).load((space_id, first_check(first), status))
        connection = connection_make(QueryRunConnection, runs, has_next=more)
    else:
        read = partial(selectors.query_list, tenant=context.tenant, space_id=space_id, status=status)
        connection = await run_sync(page_connection, QueryRunConnection, read, first=first, after=after)
    if cited_documents:
        cited = {citation["document_id"] for edge in connection.edges for citation in
                 (edge.node.result or {}).get("citations", ())}
        await context.loader(documents_by_id_load).load_many(sorted(cited))
    return connection
