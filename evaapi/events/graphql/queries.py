from functools import partial

import graphene

from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.events.graphql.types import EventConnection
from evaapi.events.selectors import event_list
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument, page_connection


class EventQueries(graphene.ObjectType):
    events = graphene.Field(
        graphene.NonNull(EventConnection), first=first_argument(), after=after_argument(),
        types=graphene.List(graphene.NonNull(graphene.String),
                            description="Exact types, families (space.*) or *."),
        space_id=graphene.UUID(), description="Your recent events, newest first (needs spaces:read), of the families "
                                              "your scopes read (document.* documents:read, query.* queries:execute, "
                                              "webhook.* webhooks:manage).")

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    async def resolve_events(root, info, first, after=None, types=None, space_id=None):
        read = partial(event_list, tenant=info.context.tenant, type_patterns=types, principal=info.context.principal,
                       space_id=str(space_id) if space_id else None)
        return await run_sync(page_connection, EventConnection, read, first=first, after=after)
