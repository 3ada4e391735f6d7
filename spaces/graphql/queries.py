from functools import partial

import graphene

from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument, page_connection
from evaapi.graphql.types import enum_value
from spaces import selectors
from spaces.graphql.dataloaders import spaces_by_id_load
from spaces.graphql.types import Space, SpaceConnection
from spaces.repositories import SORTS

SpaceSort = graphene.Enum("SpaceSort", [(name.lstrip("-").upper() + ("_REVERSE" if name.startswith("-") else ""),
                                         name) for name in SORTS])
DEFAULT_SORT = "created_at"


class SpaceQueries(graphene.ObjectType):
    space = graphene.Field(Space, id=graphene.UUID(required=True), description="A space of yours (needs spaces:read).")
    spaces = graphene.Field(
        graphene.NonNull(SpaceConnection), first=first_argument(), after=after_argument(), tag=graphene.String(),
        sort=graphene.Argument(SpaceSort, default_value=DEFAULT_SORT,
                               description="The order (null is the default: newest first)."),
        description="Your spaces: newest first by default, or with this tag (needs spaces:read).")

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    async def resolve_space(root, info, id):
        return await run_sync(selectors.space_get, tenant=info.context.tenant, space_id=str(id))

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    async def resolve_spaces(root, info, first, sort, after=None, tag=None):
        # An explicit null arrives as null, not as the default: null means "as usual".
        read = partial(selectors.space_list, tenant=info.context.tenant, tag=tag,
                       sort=DEFAULT_SORT if sort is None else enum_value(sort))
        connection = await run_sync(page_connection, SpaceConnection, read, first=first, after=after)
        loader = info.context.loader(spaces_by_id_load)
        for edge in connection.edges:
            loader.prime(edge.node.id, edge.node)  # their documents' `space` costs nothing
        return connection
