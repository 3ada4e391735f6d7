import graphene

from evaapi.auth import scopes
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import JSON, DateTime
from spaces.queries.domain import QueryStatus as QueryStatusValue

QueryStatus = graphene.Enum("QueryStatus", [(str(status).upper(), str(status)) for status in QueryStatusValue])


class QueryParameters(graphene.ObjectType):
    top_k = graphene.Int(required=True)
    temperature = graphene.Float()
    max_tokens = graphene.Int()
    document_ids = graphene.List(graphene.NonNull(graphene.UUID))


class Citation(graphene.ObjectType):
    """A passage the answer cites: `[n]` in the answer is citations[n - 1]."""

    document_id = graphene.UUID(required=True)
    document = graphene.Field("documents.graphql.types.Document",
                              description="Null once the document is deleted (needs documents:read).")
    filename = graphene.String(required=True)
    chunk_id = graphene.String(required=True)
    snippet = graphene.String(required=True)
    score = graphene.Float(required=True)

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    def resolve_document(citation, info):
        from documents.graphql.dataloaders import documents_by_id_load

        return info.context.load(documents_by_id_load, citation["document_id"])


class QueryLatency(graphene.ObjectType):
    retrieval = graphene.Float(required=True)
    generation = graphene.Float(required=True)
    total = graphene.Float(required=True)


class QueryResult(graphene.ObjectType):
    """A completed query's answer."""

    answer = graphene.String(required=True)
    citations = graphene.List(graphene.NonNull(Citation), required=True)
    provider = graphene.String(required=True)
    model = graphene.String()
    usage = JSON()
    latency_ms = graphene.Field(QueryLatency, required=True)


class QueryRun(graphene.ObjectType):
    """A question asked of a space, answered in the background (`Query` is GraphQL's root type)."""

    id = graphene.UUID(required=True)
    tenant_id = graphene.UUID(required=True)
    space_id = graphene.UUID(required=True)
    space = graphene.Field("spaces.graphql.types.Space",
                           description="Null once the space is deleted (needs spaces:read).")
    question = graphene.String(required=True)
    parameters = graphene.Field(QueryParameters, required=True)
    status = graphene.Field(QueryStatus, required=True)
    failure_reason = graphene.String()
    result = graphene.Field(QueryResult, description="The answer, once the query is completed.")
    created_by = graphene.String(required=True)
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)
    started_at = DateTime()
    completed_at = DateTime()
    deadline_at = DateTime(required=True)

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    def resolve_space(run, info):
        from spaces.graphql.dataloaders import spaces_by_id_load

        return info.context.load(spaces_by_id_load, run.space_id)

    @staticmethod
    def resolve_status(run, info):
        return str(run.status)

    @staticmethod
    def resolve_result(run, info):
        return run.result if run.status == QueryStatusValue.COMPLETED else None


class QueryRunConnection(graphene.relay.Connection):
    class Meta:
        node = QueryRun
