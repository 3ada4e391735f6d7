"""The webhooks' DataLoaders."""

from functools import partial

from evaapi.concurrency import run_sync
from evaapi.graphql.relay import connection_make, first_check, page_connection, parent_pages_load
from evaapi.graphql.types import enum_value
from webhooks import selectors


async def deliveries_of_endpoints_load(context, keys: list[tuple]) -> list:
    """(endpoint, first, status) -> (its first deliveries, whether more follow)."""
    def read(*, parents, first, status):
        return selectors.deliveries_of_endpoints(tenant=context.tenant, endpoints=parents, status=status,
                                                 limit=first)

    return await parent_pages_load(keys, read, parent_id=lambda endpoint: endpoint.id)


async def endpoint_deliveries_connection(context, *, endpoint, first: int, after: str | None, status):
    from webhooks.graphql.types import WebhookDeliveryConnection

    status = enum_value(status)
    if after is None:
        deliveries, more = await context.loader(deliveries_of_endpoints_load).load((endpoint, first_check(first),
                                                                                     status))
        return connection_make(WebhookDeliveryConnection, deliveries, has_next=more)
    read = partial(selectors.delivery_list, tenant=context.tenant, webhook_id=endpoint.id, status=status)
    return await run_sync(page_connection, WebhookDeliveryConnection, read, first=first, after=after)
