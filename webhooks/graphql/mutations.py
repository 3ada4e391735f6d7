import graphene

from evaapi.auth import scopes
from evaapi.graphql.mutations import input_checked, mutation_run
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import user_errors_field
from webhooks import services
from webhooks.api.serializers import RotateInput, WebhookInput, WebhookPatchInput
from webhooks.graphql.types import WebhookEndpoint


class CreateWebhookInput(graphene.InputObjectType):
    url = graphene.String(required=True)
    event_types = graphene.List(graphene.NonNull(graphene.String), required=True,
                                description="Exact types (space.created), families (space.*) or *.")
    description = graphene.String()
    active = graphene.Boolean()
    space_ids = graphene.List(graphene.NonNull(graphene.UUID), description="Only events of these spaces.")


class UpdateWebhookInput(graphene.InputObjectType):
    url = graphene.String()
    event_types = graphene.List(graphene.NonNull(graphene.String))
    description = graphene.String()
    active = graphene.Boolean()
    space_ids = graphene.List(graphene.NonNull(graphene.UUID))


class WebhookWithSecretPayload:
    webhook = graphene.Field(WebhookEndpoint)
    secret = graphene.String(description="The signing secret (whsec_…): shown in this response only.")
    errors = user_errors_field()


class CreateWebhook(WebhookWithSecretPayload, graphene.Mutation):
    """Creates a webhook endpoint; the answer holds its signing secret, shown once (needs
    webhooks:manage)."""

    class Arguments:
        input = CreateWebhookInput(required=True)

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def mutate(root, info, input):
        principal = info.context.principal

        def change():
            data = input_checked(WebhookInput, input)
            endpoint, secret = services.endpoint_create(tenant=principal.tenant, actor=principal.actor, **data)
            return {"webhook": endpoint, "secret": secret}

        return await mutation_run(CreateWebhook, change)


class UpdateWebhook(graphene.Mutation):
    """Changes a webhook endpoint; `active: true` enables one the system disabled (needs
    webhooks:manage)."""

    class Arguments:
        id = graphene.UUID(required=True)
        input = UpdateWebhookInput(required=True)

    webhook = graphene.Field(WebhookEndpoint)
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def mutate(root, info, id, input):
        principal = info.context.principal

        def change():
            changes = input_checked(WebhookPatchInput, input)
            return {"webhook": services.endpoint_update(tenant=principal.tenant, actor=principal.actor,
                                                        webhook_id=str(id), changes=changes)}

        return await mutation_run(UpdateWebhook, change)


class DeleteWebhook(graphene.Mutation):
    """Deletes a webhook endpoint (needs webhooks:manage)."""

    class Arguments:
        id = graphene.UUID(required=True)

    deleted_id = graphene.UUID()
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def mutate(root, info, id):
        principal = info.context.principal

        def change():
            services.endpoint_delete(tenant=principal.tenant, actor=principal.actor, webhook_id=str(id))
            return {"deleted_id": id}

        return await mutation_run(DeleteWebhook, change)


class RotateWebhookSecret(WebhookWithSecretPayload, graphene.Mutation):
    """A new signing secret; the old one also signs for `graceHours` (default 24, at most 168)
    (needs webhooks:manage). While a grace period runs, another rotation with a grace is a
    `conflict` user error; `graceHours: 0` is always taken and ends every earlier secret at once."""

    class Arguments:
        id = graphene.UUID(required=True)
        grace_hours = graphene.Float()

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def mutate(root, info, id, grace_hours=None):
        principal = info.context.principal

        def change():
            data = input_checked(RotateInput, {"grace_hours": grace_hours})
            endpoint, secret = services.endpoint_rotate_secret(tenant=principal.tenant, actor=principal.actor,
                                                               webhook_id=str(id), grace_hours=data["grace_hours"])
            return {"webhook": endpoint, "secret": secret}

        return await mutation_run(RotateWebhookSecret, change)


class TestWebhook(graphene.Mutation):
    """Sends a webhook.test event to the endpoint through the real pipeline (needs
    webhooks:manage)."""

    class Arguments:
        id = graphene.UUID(required=True)

    delivery_id = graphene.ID(description="The test delivery: see the endpoint's deliveries.")
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.WEBHOOKS_MANAGE)
    async def mutate(root, info, id):
        principal = info.context.principal

        def change():
            return {"delivery_id": services.endpoint_test(tenant=principal.tenant, actor=principal.actor,
                                                          webhook_id=str(id))}

        return await mutation_run(TestWebhook, change)


class WebhookMutations(graphene.ObjectType):
    create_webhook = CreateWebhook.Field()
    update_webhook = UpdateWebhook.Field()
    delete_webhook = DeleteWebhook.Field()
    rotate_webhook_secret = RotateWebhookSecret.Field()
    test_webhook = TestWebhook.Field()
