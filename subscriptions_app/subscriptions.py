"""The GraphQL subscriptions. Each checks, when it starts, that what it watches is the caller's
(another tenant's space, query or tenant id is an error, not silence), then yields the same
types as queries do."""

import graphene

from documents.graphql.types import Document
from documents.selectors import document_get
from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.events.graphql.types import Event
from evaapi.events.selectors import event_types_select, events_after
from evaapi.events.sinks import query_group, space_group, tenant_group
from evaapi.exceptions import ResourceNotFound, ServiceError
from evaapi.graphql.permissions import requires_scope
from spaces.queries.graphql.types import QueryRun
from spaces.queries.selectors import query_get
from spaces.selectors import space_get
from subscriptions_app.objects import object_for_event
from subscriptions_app.streams import Dropped

DOCUMENT_UPDATES = ("document.processed", "document.failed", "document.deleted")


class EventsDropped(ServiceError):
    code = "events_dropped"


def _dropped_check(root) -> None:
    if isinstance(root, Dropped):
        raise EventsDropped(f"{root.count} event(s) were dropped: this subscriber fell behind. Re-read what you "
                            "need, or resume `events` with `after`.", details={"dropped": root.count})


def _tenant_check(info, tenant_id: str) -> None:
    if tenant_id != info.context.tenant.id:
        raise ResourceNotFound("No such tenant.")


async def _document(info, event):
    _dropped_check(event)
    tenant = info.context.tenant
    document_id = event.data["document_id"]
    try:
        return await object_for_event(("document", tenant.id, document_id, event.id), document_get, tenant=tenant,
                                      document_id=document_id)
    except ResourceNotFound:
        return None  # deleted since


async def _query_run(info, event):
    _dropped_check(event)
    tenant = info.context.tenant
    query_id = event.data["query_id"]
    try:
        return await object_for_event(("query", tenant.id, query_id, event.id), query_get, tenant=tenant,
                                      query_id=query_id)
    except ResourceNotFound:
        return None


class Subscription(graphene.ObjectType):
    document_added = graphene.Field(Document, space_id=graphene.UUID(required=True),
                                    description="Each document added to the space (needs documents:read).")
    document_updated = graphene.Field(
        Document, space_id=graphene.UUID(required=True),
        description="Each status change of the space's documents: processed, failed, deleted (needs documents:read).")
    query_completed = graphene.Field(QueryRun, tenant_id=graphene.String(required=True),
                                     description="Each query of the tenant answered (needs queries:execute).")
    query_updates = graphene.Field(QueryRun, id=graphene.UUID(required=True),
                                   description="Each status change of one query (needs queries:execute).")
    space_events = graphene.Field(Event, tenant_id=graphene.String(required=True),
                                  description="Spaces created, updated and deleted (needs spaces:read).")
    events = graphene.Field(
        Event, types=graphene.List(graphene.NonNull(graphene.String), description="Types, families or *."),
        after=graphene.UUID(description="An event's id: first replays every later event, then goes on live."),
        description="Every event of your tenant, or of these types (needs spaces:read).")

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    async def subscribe_document_added(root, info, space_id):
        space = await run_sync(space_get, tenant=info.context.tenant, space_id=str(space_id))
        return await info.context.events_listen(groups=[space_group(space.id)], types=["document.added"])

    @staticmethod
    async def resolve_document_added(event, info, space_id):
        return await _document(info, event)

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    async def subscribe_document_updated(root, info, space_id):
        space = await run_sync(space_get, tenant=info.context.tenant, space_id=str(space_id))
        return await info.context.events_listen(groups=[space_group(space.id)], types=list(DOCUMENT_UPDATES))

    @staticmethod
    async def resolve_document_updated(event, info, space_id):
        return await _document(info, event)

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def subscribe_query_completed(root, info, tenant_id):
        _tenant_check(info, tenant_id)
        return await info.context.events_listen(groups=[tenant_group(tenant_id)], types=["query.completed"])

    @staticmethod
    async def resolve_query_completed(event, info, tenant_id):
        return await _query_run(info, event)

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def subscribe_query_updates(root, info, id):
        query = await run_sync(query_get, tenant=info.context.tenant, query_id=str(id))
        return await info.context.events_listen(groups=[query_group(query.id)], types=["query.*"])

    @staticmethod
    async def resolve_query_updates(event, info, id):
        return await _query_run(info, event)

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    async def subscribe_space_events(root, info, tenant_id):
        _tenant_check(info, tenant_id)
        return await info.context.events_listen(groups=[tenant_group(tenant_id)], types=["space.*"])

    @staticmethod
    def resolve_space_events(event, info, tenant_id):
        _dropped_check(event)
        return event

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    async def subscribe_events(root, info, types=None, after=None):
        types = event_types_select(patterns=types, principal=info.context.principal)
        tenant = info.context.tenant
        # Listening first, reading the record second: an event recorded meanwhile is in both
        # (the stream drops the repeat), and none falls between (events are recorded before
        # they are published).
        stream = await info.context.events_listen(groups=[tenant_group(tenant.id)], types=types)
        if after is not None:
            try:
                stream.replay(await run_sync(events_after, tenant=tenant, event_id=str(after), types=types))
            except BaseException:
                await stream.aclose()
                raise
        return stream

    @staticmethod
    def resolve_events(event, info, types=None, after=None):
        _dropped_check(event)
        return event
