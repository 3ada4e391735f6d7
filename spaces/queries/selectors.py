"""Reads of queries. Another tenant's query and a missing one are the same 404."""

import uuid

from evaapi.auth.domain import Tenant
from evaapi.exceptions import ResourceConflict, ResourceNotFound, TooEarly
from evaapi.paging import pages_by_parent
from evaapi.store.query import MAX_LIMIT
from spaces.queries import repositories
from spaces.queries.domain import Query, QueryStatus
from spaces.selectors import space_get


def query_item_get(*, tenant: Tenant, query_id: str) -> dict:
    try:
        uuid.UUID(query_id)
    except ValueError:
        raise ResourceNotFound("No such query.") from None
    item = repositories.query_item_find(tenant_id=tenant.id, query_id=query_id)
    if item is None:
        raise ResourceNotFound("No such query.")
    return item


def query_get(*, tenant: Tenant, query_id: str) -> Query:
    return repositories.query_from_item(query_item_get(tenant=tenant, query_id=query_id))


def query_result(*, tenant: Tenant, query_id: str) -> dict:
    """The answer of a completed query; 425 (with Retry-After) while it is pending or processing;
    409 when it ended without one (failed, cancelled)."""
    query = query_get(tenant=tenant, query_id=query_id)
    if query.status in (QueryStatus.PENDING, QueryStatus.PROCESSING):
        raise TooEarly(f"The query is {query.status}; ask again shortly.", retry_after=1,
                       details={"status": str(query.status)})
    if query.status != QueryStatus.COMPLETED:
        raise ResourceConflict(f"The query is {query.status}; it has no answer.",
                               details={"status": str(query.status), "failure_reason": query.failure_reason})
    return query.result


def query_list(*, tenant: Tenant, space_id: str, status: str | None = None, limit: int,
               continuation: str | None) -> tuple[list[Query], str | None]:
    space = space_get(tenant=tenant, space_id=space_id)
    return repositories.query_page(tenant_id=tenant.id, space_id=space.id, status=status, limit=limit,
                                   continuation=continuation)


def queries_of_spaces(*, tenant: Tenant, space_ids, status: str | None = None,
                      limit: int) -> dict[str, tuple[list[Query], bool]]:
    """The first `limit` queries (newest first) of each of these spaces of the tenant, and
    whether it has more: one store call for them all (see evaapi.paging.pages_by_parent)."""
    space_ids = list(dict.fromkeys(space_ids))
    items, truncated = repositories.query_items_of_spaces(tenant_id=tenant.id, space_ids=space_ids, status=status,
                                                          limit=MAX_LIMIT)

    def page_of(space_id: str) -> tuple[list[Query], bool]:
        queries, continuation = repositories.query_page(tenant_id=tenant.id, space_id=space_id, status=status,
                                                        limit=limit, continuation=None)
        return queries, continuation is not None

    return pages_by_parent(items, space_ids, parent_field="space_id", limit=limit, truncated=truncated,
                           page_of=page_of, convert=repositories.query_from_item)
