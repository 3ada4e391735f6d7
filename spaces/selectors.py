"""Reads of spaces. Another tenant's space, a deleted one and a missing one are the same 404."""

import uuid

from evaapi.auth.domain import Tenant
from evaapi.exceptions import ResourceNotFound
from evaapi.store import NotFound
from spaces import repositories
from spaces.domain import Space, SpaceStatus


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def space_item_get(*, tenant: Tenant, space_id: str) -> dict:
    """The stored item of an active space of the tenant (for services that rewrite it)."""
    if not _is_uuid(space_id):
        raise ResourceNotFound("No such space.")
    try:
        item = repositories.space_item_read(tenant_id=tenant.id, space_id=space_id)
    except NotFound:
        raise ResourceNotFound("No such space.") from None
    if item["status"] != SpaceStatus.ACTIVE:
        raise ResourceNotFound("No such space.")
    return item


def space_get(*, tenant: Tenant, space_id: str) -> Space:
    return repositories.space_from_item(space_item_get(tenant=tenant, space_id=space_id))


def space_list(*, tenant: Tenant, tag: str | None = None, sort: str = "created_at", limit: int,
               continuation: str | None) -> tuple[list[Space], str | None]:
    return repositories.space_page(tenant_id=tenant.id, tag=tag, sort=sort, limit=limit, continuation=continuation)


def spaces_by_id(*, tenant: Tenant, space_ids) -> dict[str, Space]:
    """The tenant's active spaces among these ids, by id: one store call."""
    ids = [value for value in dict.fromkeys(space_ids) if _is_uuid(value)]
    if not ids:
        return {}
    items = repositories.space_items_by_ids(tenant_id=tenant.id, space_ids=ids)
    return {item["id"]: repositories.space_from_item(item) for item in items if item["status"] == SpaceStatus.ACTIVE}
