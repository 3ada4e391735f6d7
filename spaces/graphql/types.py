import graphene

from evaapi.auth import scopes
from evaapi.graphql.lookahead import selects
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument
from evaapi.graphql.types import JSON, DateTime


class Space(graphene.ObjectType):
    """A tenant's collection of documents, and the questions asked of them."""

    id = graphene.UUID(required=True)
    tenant_id = graphene.UUID(required=True)
    name = graphene.String(required=True)
    description = graphene.String(required=True)
    tags = graphene.List(graphene.NonNull(graphene.String), required=True)
    metadata = JSON(required=True)
    document_count = graphene.Int(required=True)
    created_by = graphene.String(required=True)
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)
    documents = graphene.Field(
        graphene.NonNull("documents.graphql.types.DocumentConnection"), first=first_argument(), after=after_argument(),
        status=graphene.Argument("documents.graphql.types.DocumentStatus"),
        description="The space's documents, newest first (needs documents:read).")
    query_runs = graphene.Field(
        graphene.NonNull("spaces.queries.graphql.types.QueryRunConnection"), first=first_argument(),
        after=after_argument(), status=graphene.Argument("spaces.queries.graphql.types.QueryStatus"),
        description="The questions asked of the space, newest first (needs queries:execute).")

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    async def resolve_documents(space, info, first, after=None, status=None):
        from documents.graphql.dataloaders import space_documents_connection

        return await space_documents_connection(info.context, space_id=space.id, first=first, after=after,
                                                status=status)

    @staticmethod
    @requires_scope(scopes.QUERIES_EXECUTE)
    async def resolve_query_runs(space, info, first, after=None, status=None):
        from spaces.queries.graphql.dataloaders import space_query_runs_connection

        return await space_query_runs_connection(
            info.context, space_id=space.id, first=first, after=after, status=status,
            cited_documents=selects(info, "edges", "node", "result", "citations", "document")
            and info.context.principal.has_scope(scopes.DOCUMENTS_READ))


class SpaceConnection(graphene.relay.Connection):
    class Meta:
        node = Space
