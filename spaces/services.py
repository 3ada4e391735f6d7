"""Writes of spaces. Each records its event in the same store write as the change
(evaapi.events), and an audit entry."""

import logging
import uuid
from datetime import timedelta

from evaapi.auth.domain import Tenant
from evaapi.auth.services.audit import audit_record
from evaapi.events.domain import event_make
from evaapi.events.outbox import outbox_add, outbox_relay, outbox_relay_now
from evaapi.exceptions import InvalidInput, ResourceConflict, VersionMismatch
from evaapi.metadata import metadata_check
from evaapi.preconditions import if_match_check
from evaapi.store import Conflict, NotFound, PreconditionFailed
from evaapi.times import iso, utc_now
from spaces import repositories
from spaces.domain import Space, SpaceStatus, name_key
from spaces.repositories import SPACES
from spaces.selectors import space_item_get

logger = logging.getLogger(__name__)

_UPDATE_ATTEMPTS = 5
EDITABLE = ("name", "description", "tags", "metadata")


def _name_taken(name: str) -> ResourceConflict:
    return ResourceConflict(f"A space named {name!r} exists already (names are unique ignoring case).",
                            details={"name": ["A space with this name exists already."]})


def space_create(*, tenant: Tenant, actor: str, name: str, description: str = "", tags=(),
                 metadata: dict | None = None) -> Space:
    metadata = metadata or {}
    metadata_check(metadata)
    now = iso(utc_now())
    space = Space(
        id=str(uuid.uuid4()), tenant_id=tenant.id, name=name, description=description,
        tags=tuple(dict.fromkeys(tags)), metadata=metadata, document_count=0, created_by=actor,
        created_at=now, updated_at=now,
    )
    event = event_make(type="space.created", tenant_id=tenant.id, space_id=space.id,
                       data={"space_id": space.id, "name": name})
    try:
        item = repositories.space_insert(outbox_add(repositories.space_item(space, name_key(name)), event))
    except Conflict:
        raise _name_taken(name) from None
    audit_record(tenant_id=tenant.id, actor=actor, action="space.create", resource_type="space",
                 resource_id=space.id)
    return repositories.space_from_item(outbox_relay_now(SPACES, item))


def space_update(*, tenant: Tenant, actor: str, space_id: str, changes: dict, if_match: str | None = None) -> Space:
    """Applies `changes` (any of EDITABLE). With If-Match, only to that version (412 otherwise);
    without, to the current one, retried if another write lands in between."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Not editable: {', '.join(sorted(unknown))}.")
    if "metadata" in changes:
        metadata_check(changes["metadata"])
    for _ in range(_UPDATE_ATTEMPTS):
        item = space_item_get(tenant=tenant, space_id=space_id)
        if_match_check(item, if_match, what="space")
        updated = {**item, **changes, "updated_at": iso(utc_now())}
        if "tags" in changes:
            updated["tags"] = list(dict.fromkeys(changes["tags"]))
        if "name" in changes:
            updated["name_key"] = name_key(changes["name"])
        changed = sorted(name for name in changes if item.get(name) != updated.get(name))
        if not changed:
            return repositories.space_from_item(item)
        event = event_make(type="space.updated", tenant_id=tenant.id, space_id=space_id,
                           data={"space_id": space_id, "name": updated["name"], "changed": changed})
        try:
            item = repositories.space_replace(outbox_add(updated, event), etag=item["_etag"])
        except Conflict:
            raise _name_taken(changes["name"]) from None
        except PreconditionFailed:
            if if_match is not None:
                raise VersionMismatch("The space has changed since that version (If-Match); read it again.") from None
            continue
        audit_record(tenant_id=tenant.id, actor=actor, action="space.update", resource_type="space",
                     resource_id=space_id)
        return repositories.space_from_item(outbox_relay_now(SPACES, item))
    raise ResourceConflict("The space kept changing while it was being updated; try again.")


def space_delete(*, tenant: Tenant, actor: str, space_id: str, if_match: str | None = None) -> None:
    """Hides the space at once (404 from then on) and frees its name; its documents, their files
    and chunks, and then the space itself are removed by `space_purge` (a job, or the sweeper)."""
    for _ in range(_UPDATE_ATTEMPTS):
        item = space_item_get(tenant=tenant, space_id=space_id)
        if_match_check(item, if_match, what="space")
        event = event_make(type="space.deleted", tenant_id=tenant.id, space_id=space_id,
                           data={"space_id": space_id, "name": item["name"]})
        deleted = {**item, "status": str(SpaceStatus.DELETED), "name_key": f"{item['name_key']}#deleted:{space_id}",
                   "updated_at": iso(utc_now())}
        try:
            item = repositories.space_replace(outbox_add(deleted, event), etag=item["_etag"])
            break
        except PreconditionFailed:
            if if_match is not None:
                raise VersionMismatch("The space has changed since that version (If-Match); read it again.") from None
    else:
        raise ResourceConflict("The space kept changing while it was being deleted; try again.")
    audit_record(tenant_id=tenant.id, actor=actor, action="space.delete", resource_type="space",
                 resource_id=space_id)
    outbox_relay_now(SPACES, item)
    from spaces.tasks import space_purge_enqueue

    space_purge_enqueue(tenant_id=tenant.id, space_id=space_id)


def space_purge(*, tenant_id: str, space_id: str) -> bool:
    """Removes a deleted space's documents (files, chunks, records), then the space. Idempotent;
    False when there was nothing (left) to purge."""
    from documents.services import documents_purge_for_space
    from spaces.queries.services import queries_purge_for_space

    try:
        item = repositories.space_item_read(tenant_id=tenant_id, space_id=space_id)
    except NotFound:
        return False
    if item["status"] != SpaceStatus.DELETED:
        return False
    documents_purge_for_space(tenant_id=tenant_id, space_id=space_id)
    queries_purge_for_space(tenant_id=tenant_id, space_id=space_id)
    # Its events first: the record goes, and an event still in its outbox would go with it.
    if outbox_relay(SPACES, item) is not None:
        repositories.space_delete(tenant_id=tenant_id, space_id=space_id)
    return True


def spaces_purge_sweep(*, grace_seconds: float = 60, limit: int = 20) -> int:
    """Purges deleted spaces whose job did not run (a flushed Redis, a killed worker)."""
    older_than = iso(utc_now() - timedelta(seconds=grace_seconds))
    purged = 0
    for item in repositories.spaces_deleted_page(older_than=older_than, limit=limit):
        purged += space_purge(tenant_id=item["tenant_id"], space_id=item["id"])
    return purged


def space_document_count_refresh(*, tenant_id: str, space_id: str, count_documents) -> None:
    """Sets the space's document_count to `count_documents()`, counted after reading the space and
    written only on that version (else read, count and write again), so concurrent uploads and
    deletes settle on the true count: the last write to succeed counted after every change."""
    for _ in range(_UPDATE_ATTEMPTS * 2):
        try:
            item = repositories.space_item_read(tenant_id=tenant_id, space_id=space_id)
        except NotFound:
            return
        count = count_documents()
        # Written even when it looks unchanged: skipping would let an older count, taken by a
        # concurrent refresh on this same version, win (its write would then not be refused).
        try:
            repositories.space_document_count_set(tenant_id=tenant_id, space_id=space_id, count=count,
                                                  etag=item["_etag"])
            return
        except (PreconditionFailed, NotFound):
            continue
    logger.warning("document_count of space %s did not settle; the next document event retries", space_id)
