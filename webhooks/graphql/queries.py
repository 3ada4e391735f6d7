from functools import partial

import graphene

from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument, page_connection
from webhooks import selectors
from webhooks.graphql.types import WebhookEndpoint, WebhookEndpointConnection


class WebhookQueries(graphene.ObjectType):
    webhook = graphene.Field(WebhookEndpoint, id=graphene.UUID(required=True),
                             description="A webhook endpoint of yours (needs webhooks:manage).")
    webhooks = graphene.Field(graphene.NonNull(WebhookEndpointConnection), first=first_argument(),
                              after=after_argument(), description="Your webhook endpoints (needs webhooks:manage).")

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def resolve_webhook(root, info, id):
        return await run_sync(selectors.endpoint_get, tenant=info.context.tenant, webhook_id=str(id))

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def resolve_webhooks(root, info, first, after=None):
        read = partial(selectors.endpoint_list, tenant=info.context.tenant)
        return await run_sync(page_connection, WebhookEndpointConnection, read, first=first, after=after)
