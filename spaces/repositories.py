"""Store access for spaces (the only module of the app that touches the store)."""

import contextlib

from evaapi.events.repositories import OUTBOX_INDEX, outbox_container_register
from evaapi.records import record_from_item
from evaapi.store import ContainerSpec, Index, NotFound, Query, container_register, patch_set, store
from evaapi.store import query as q
from spaces.domain import Space, SpaceStatus

SPACES = outbox_container_register(container_register(
    ContainerSpec(
        name="spaces",
        partition_key="/tenant_id",
        # Case-insensitive names, unique per tenant; a deleted space gives its name up at once.
        unique_keys=(("name_key",),),
        filter_fields=("status", "tags", "outbox_pending", "updated_at"),
        indexes=(
            # The tenant's active spaces, newest first or by name (with the reverse of each).
            Index(equality=("status",), order=(("created_at", "desc"),)),
            Index(equality=("status",), order=(("name_key", "asc"),)),
            # The sweeper's: deleted spaces to purge; items with events still to relay.
            Index(equality=("status",), order=(("updated_at", "asc"),)),
            OUTBOX_INDEX,
        ),
    )
))

_FIELDS = tuple(name for name in Space.__dataclass_fields__ if name != "etag")
SORTS = {"created_at": (("created_at", "desc"),), "-created_at": (("created_at", "asc"),),
         "name": (("name_key", "asc"),), "-name": (("name_key", "desc"),)}


def space_from_item(item: dict) -> Space:
    return record_from_item(Space, item, _FIELDS, tags=tuple(item.get("tags") or ()),
                            status=SpaceStatus(item["status"]))


def space_item(space: Space, name_key: str) -> dict:
    item = {name: getattr(space, name) for name in _FIELDS}
    item["tags"] = list(space.tags)
    item["status"] = str(space.status)
    item["name_key"] = name_key
    return item


def space_insert(item: dict) -> dict:
    return store().container(SPACES).create(item)


def space_item_read(*, tenant_id: str, space_id: str) -> dict:
    """The stored item (with its outbox and etag), whatever its status."""
    return store().container(SPACES).read(space_id, partition_key=tenant_id)


def space_replace(item: dict, *, etag: str) -> dict:
    return store().container(SPACES).replace(item, etag=etag)


def space_delete(*, tenant_id: str, space_id: str) -> None:
    with contextlib.suppress(NotFound):  # gone already: what a repeated purge finds
        store().container(SPACES).delete(space_id, partition_key=tenant_id)


def space_page(*, tenant_id: str, tag: str | None, sort: str, limit: int, continuation: str | None):
    filters = [q.eq("status", str(SpaceStatus.ACTIVE))]
    if tag is not None:
        filters.append(q.array_contains("tags", tag))
    page = store().container(SPACES).query(
        Query(filters=tuple(filters), order_by=SORTS[sort], limit=limit, continuation=continuation),
        partition_key=tenant_id,
    )
    return [space_from_item(item) for item in page.items], page.continuation


def space_items_by_ids(*, tenant_id: str, space_ids) -> list[dict]:
    """Those of the ids that exist, whatever their status (one query)."""
    ids = list(dict.fromkeys(space_ids))
    return store().container(SPACES).query(Query(filters=(q.in_("id", ids),), limit=len(ids)),
                                           partition_key=tenant_id).items


def space_document_count_set(*, tenant_id: str, space_id: str, count: int, etag: str) -> dict:
    """Sets the count only on the version read (PreconditionFailed otherwise), so a count taken
    before a concurrent change never overwrites one taken after it."""
    return store().container(SPACES).patch(
        space_id, partition_key=tenant_id, operations=[patch_set("/document_count", count)], etag=etag
    )


def spaces_deleted_page(*, older_than: str, limit: int) -> list[dict]:
    """Deleted spaces (of every tenant) whose purge has not finished, for the sweeper."""
    page = store().container(SPACES).query(
        Query(filters=(q.eq("status", str(SpaceStatus.DELETED)), q.lt("updated_at", older_than)),
              order_by=(("updated_at", "asc"),), limit=limit),
        partition_key=None,
    )
    return page.items
