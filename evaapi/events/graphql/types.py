import graphene

from evaapi.graphql.types import JSON, DateTime


class Event(graphene.ObjectType):
    """Something that changed: {id, type, tenantId, spaceId, timestamp, data}, as webhooks and
    subscriptions deliver it."""

    id = graphene.UUID(required=True)
    type = graphene.String(required=True)
    tenant_id = graphene.UUID(required=True)
    space_id = graphene.UUID()
    timestamp = DateTime(required=True)
    data = JSON(required=True)


class EventConnection(graphene.relay.Connection):
    class Meta:
        node = Event
