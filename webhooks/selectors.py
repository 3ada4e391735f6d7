"""Reads of webhooks. Another tenant's endpoint, delivery or dead letter is a 404, exactly like
a missing one."""

import uuid

from evaapi.auth.domain import Tenant
from evaapi.exceptions import ResourceNotFound
from evaapi.paging import pages_by_parent
from evaapi.store import NotFound
from evaapi.store.query import MAX_LIMIT
from webhooks import repositories
from webhooks.domain import AttemptLog, DeadLetter, Delivery, WebhookEndpoint


def endpoint_item_get(*, tenant: Tenant, webhook_id: str) -> dict:
    try:
        uuid.UUID(webhook_id)
        return repositories.endpoint_item_read(tenant_id=tenant.id, webhook_id=webhook_id)
    except (ValueError, NotFound):
        raise ResourceNotFound("No such webhook.") from None


def endpoint_get(*, tenant: Tenant, webhook_id: str) -> WebhookEndpoint:
    return repositories.endpoint_from_item(endpoint_item_get(tenant=tenant, webhook_id=webhook_id))


def endpoint_list(*, tenant: Tenant, limit: int, continuation: str | None):
    return repositories.endpoint_page(tenant_id=tenant.id, limit=limit, continuation=continuation)


def delivery_list(*, tenant: Tenant, webhook_id: str, status: str | None, limit: int,
                  continuation: str | None) -> tuple[list[Delivery], str | None]:
    endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    return repositories.delivery_page(webhook_id=webhook_id, status=status, limit=limit, continuation=continuation)


def deliveries_of_endpoints(*, tenant: Tenant, endpoints, status: str | None = None,
                            limit: int) -> dict[str, tuple[list[Delivery], bool]]:
    """The first `limit` deliveries (newest first) of each of these endpoints of the tenant (as
    read by endpoint_get or endpoint_list), and whether it has more: one store call for all."""
    webhook_ids = [endpoint.id for endpoint in endpoints if endpoint.tenant_id == tenant.id]
    items, truncated = repositories.delivery_items_of_endpoints(webhook_ids=webhook_ids, status=status,
                                                                limit=MAX_LIMIT)

    def page_of(webhook_id: str) -> tuple[list[Delivery], bool]:
        deliveries, continuation = repositories.delivery_page(webhook_id=webhook_id, status=status, limit=limit,
                                                              continuation=None)
        return deliveries, continuation is not None

    return pages_by_parent(items, webhook_ids, parent_field="webhook_id", limit=limit, truncated=truncated,
                           page_of=page_of, convert=repositories.delivery_from_item)


def delivery_get(*, tenant: Tenant, webhook_id: str, delivery_id: str) -> Delivery:
    endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    try:
        item = repositories.delivery_item_read(webhook_id=webhook_id, delivery_id=delivery_id)
    except NotFound:
        raise ResourceNotFound("No such delivery.") from None
    if item["tenant_id"] != tenant.id:
        raise ResourceNotFound("No such delivery.")
    return repositories.delivery_from_item(item)


def log_list(*, tenant: Tenant, webhook_id: str, outcome: str | None = None, event_type: str | None = None,
             delivery_id: str | None = None, limit: int, continuation: str | None
             ) -> tuple[list[AttemptLog], str | None]:
    endpoint_item_get(tenant=tenant, webhook_id=webhook_id)
    return repositories.log_page(webhook_id=webhook_id, outcome=outcome, event_type=event_type,
                                 delivery_id=delivery_id, limit=limit, continuation=continuation)


def dead_letter_get(*, tenant: Tenant, letter_id: str) -> DeadLetter:
    try:
        return repositories.dead_letter_from_item(
            repositories.dead_letter_item_read(tenant_id=tenant.id, letter_id=letter_id))
    except NotFound:
        raise ResourceNotFound("No such dead letter.") from None


def dead_letter_list(*, tenant: Tenant, webhook_id: str | None = None, limit: int,
                     continuation: str | None) -> tuple[list[DeadLetter], str | None]:
    return repositories.dead_letter_page(tenant_id=tenant.id, webhook_id=webhook_id, limit=limit,
                                         continuation=continuation)
