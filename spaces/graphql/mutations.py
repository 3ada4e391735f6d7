import graphene

from evaapi.auth import scopes
from evaapi.graphql.mutations import input_checked, mutation_run
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import JSON, user_errors_field
from spaces import services
from spaces.api.serializers import SpaceCreateInput, SpaceUpdateInput
from spaces.graphql.types import Space


class CreateSpaceInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    description = graphene.String()
    tags = graphene.List(graphene.NonNull(graphene.String))
    metadata = JSON()


class UpdateSpaceInput(graphene.InputObjectType):
    name = graphene.String()
    description = graphene.String()
    tags = graphene.List(graphene.NonNull(graphene.String))
    metadata = JSON()


class CreateSpace(graphene.Mutation):
    """Creates a space (needs spaces:write)."""

    class Arguments:
        input = CreateSpaceInput(required=True)

    space = graphene.Field(Space)
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.SPACES_WRITE)
    async def mutate(root, info, input):
        principal = info.context.principal

        def change():
            data = input_checked(SpaceCreateInput, input)
            return {"space": services.space_create(tenant=principal.tenant, actor=principal.actor, **data)}

        return await mutation_run(CreateSpace, change)


class UpdateSpace(graphene.Mutation):
    """Changes a space's name, description, tags or metadata (needs spaces:write)."""

    class Arguments:
        id = graphene.UUID(required=True)
        input = UpdateSpaceInput(required=True)

    space = graphene.Field(Space)
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.SPACES_WRITE)
    async def mutate(root, info, id, input):
        principal = info.context.principal

        def change():
            changes = input_checked(SpaceUpdateInput, input)
            return {"space": services.space_update(tenant=principal.tenant, actor=principal.actor, space_id=str(id),
                                                   changes=changes)}

        return await mutation_run(UpdateSpace, change)


class DeleteSpace(graphene.Mutation):
    """Deletes a space and, in the background, its documents and queries (needs spaces:write)."""

    class Arguments:
        id = graphene.UUID(required=True)

    deleted_id = graphene.UUID()
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.SPACES_WRITE)
    async def mutate(root, info, id):
        principal = info.context.principal

        def change():
            services.space_delete(tenant=principal.tenant, actor=principal.actor, space_id=str(id))
            return {"deleted_id": id}

        return await mutation_run(DeleteSpace, change)


class SpaceMutations(graphene.ObjectType):
    create_space = CreateSpace.Field()
    update_space = UpdateSpace.Field()
    delete_space = DeleteSpace.Field()
