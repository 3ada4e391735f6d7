from functools import partial

import graphene

from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument, page_connection
from evaapi.graphql.types import enum_value
from spaces.queries import selectors
from spaces.queries.graphql.types import QueryRun, QueryRunConnection, QueryStatus


class QueryRunQueries(graphene.ObjectType):
    query_run = graphene.Field(QueryRun, id=graphene.UUID(required=True),
                               description="A question asked of one of your spaces (needs queries:execute).")
    query_runs = graphene.Field(
        graphene.NonNull(QueryRunConnection), space_id=graphene.UUID(required=True), first=first_argument(),
        after=after_argument(), status=graphene.Argument(QueryStatus),
        description="The questions asked of a space, newest first (needs queries:execute).")

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def resolve_query_run(root, info, id):
        return await run_sync(selectors.query_get, tenant=info.context.tenant, query_id=str(id))

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def resolve_query_runs(root, info, space_id, first, after=None, status=None):
        read = partial(selectors.query_list, tenant=info.context.tenant, space_id=str(space_id),
                       status=enum_value(status))
        return await run_sync(page_connection, QueryRunConnection, read, first=first, after=after)
