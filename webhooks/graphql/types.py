import graphene

from evaapi.graphql.relay import after_argument, first_argument
from evaapi.graphql.types import DateTime
from webhooks.domain import DeliveryStatus as DeliveryStatusValue

WebhookDeliveryStatus = graphene.Enum("WebhookDeliveryStatus",
                                      [(str(status).upper(), str(status)) for status in DeliveryStatusValue])


class WebhookDelivery(graphene.ObjectType):
    """One event's delivery to one endpoint: pending → succeeded | retrying → dead."""

    id = graphene.ID(required=True, description="The webhook-id header of every attempt.")
    webhook_id = graphene.UUID(required=True)
    event_id = graphene.UUID(required=True)
    event_type = graphene.String(required=True)
    space_id = graphene.UUID()
    status = graphene.Field(WebhookDeliveryStatus, required=True)
    attempt_count = graphene.Int(required=True)
    next_attempt_at = DateTime(description="When it is sent next; null once final, and while its endpoint is "
                                           "paused or disabled (it is sent when the endpoint is enabled).")
    last_status_code = graphene.Int()
    last_error = graphene.String()
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)
    succeeded_at = DateTime()

    @staticmethod
    def resolve_status(delivery, info):
        return str(delivery.status)


class WebhookDeliveryConnection(graphene.relay.Connection):
    class Meta:
        node = WebhookDelivery


class WebhookEndpoint(graphene.ObjectType):
    """Where events are delivered, signed (Standard Webhooks), with retries."""

    id = graphene.UUID(required=True)
    tenant_id = graphene.UUID(required=True)
    url = graphene.String(required=True)
    description = graphene.String(required=True)
    event_types = graphene.List(graphene.NonNull(graphene.String), required=True)
    space_ids = graphene.List(graphene.NonNull(graphene.UUID), description="Null: every space.")
    active = graphene.Boolean(required=True)
    disabled_reason = graphene.String()
    previous_secret_expires_at = DateTime()
    successes = graphene.Int(required=True)
    failures = graphene.Int(required=True)
    consecutive_failures = graphene.Int(required=True)
    last_success_at = DateTime()
    last_failure_at = DateTime()
    failing_since = DateTime()
    created_by = graphene.String(required=True)
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)
    deliveries = graphene.Field(graphene.NonNull(WebhookDeliveryConnection), first=first_argument(),
                                after=after_argument(), status=graphene.Argument(WebhookDeliveryStatus),
                                description="Its deliveries, newest first.")

    @staticmethod
    async def resolve_deliveries(endpoint, info, first, after=None, status=None):
        from webhooks.graphql.dataloaders import endpoint_deliveries_connection

        return await endpoint_deliveries_connection(info.context, endpoint=endpoint, first=first, after=after,
                                                    status=status)


class WebhookEndpointConnection(graphene.relay.Connection):
    class Meta:
        node = WebhookEndpoint
