import graphene

from evaapi.auth import scopes
from evaapi.graphql.mutations import input_checked, mutation_run
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import user_errors_field
from spaces.queries import services
from spaces.queries.api.serializers import QuerySubmitInput
from spaces.queries.domain import query_parameters_make
from spaces.queries.graphql.types import QueryRun


class QueryParametersInput(graphene.InputObjectType):
    top_k = graphene.Int(description="How many passages to answer from (1 to 20; default 5).")
    temperature = graphene.Float()
    max_tokens = graphene.Int()
    document_ids = graphene.List(graphene.NonNull(graphene.UUID), description="Answer only from these documents.")


class SubmitQueryInput(graphene.InputObjectType):
    space_id = graphene.UUID(required=True)
    question = graphene.String(required=True)
    parameters = QueryParametersInput()


class SubmitQuery(graphene.Mutation):
    """Asks a question of a space; it is answered in the background (needs queries:execute)."""

    class Arguments:
        input = SubmitQueryInput(required=True)

    query_run = graphene.Field(QueryRun)
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def mutate(root, info, input):
        principal = info.context.principal

        def change():
            data = input_checked(QuerySubmitInput, {key: value for key, value in input.items() if key != "space_id"})
            return {"query_run": services.query_submit(
                tenant=principal.tenant, actor=principal.actor, space_id=str(input["space_id"]),
                question=data["question"], parameters=query_parameters_make(data.get("parameters")))}

        return await mutation_run(SubmitQuery, change)


class CancelQuery(graphene.Mutation):
    """Cancels a pending or processing query (needs queries:execute)."""

    class Arguments:
        id = graphene.UUID(required=True)

    query_run = graphene.Field(QueryRun)
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def mutate(root, info, id):
        principal = info.context.principal

        def change():
            return {"query_run": services.query_cancel(tenant=principal.tenant, actor=principal.actor,
                                                       query_id=str(id))}

        return await mutation_run(CancelQuery, change)


class QueryRunMutations(graphene.ObjectType):
    submit_query = SubmitQuery.Field()
    cancel_query = CancelQuery.Field()
