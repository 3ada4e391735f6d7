import graphene

from documents.domain import LISTED_STATUSES
from evaapi.auth import scopes
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import JSON, DateTime

DocumentStatus = graphene.Enum("DocumentStatus", [(str(status).upper(), str(status)) for status in LISTED_STATUSES])


class Document(graphene.ObjectType):
    """A file uploaded into a space; its text is extracted and chunked in the background."""

    id = graphene.UUID(required=True)
    tenant_id = graphene.UUID(required=True)
    space_id = graphene.UUID(required=True)
    space = graphene.Field("spaces.graphql.types.Space",
                           description="Null once the space is deleted (needs spaces:read).")
    filename = graphene.String(required=True)
    media_type = graphene.String(required=True)
    size_bytes = graphene.Int(required=True)
    sha256 = graphene.String(required=True)
    status = graphene.Field(DocumentStatus, required=True)
    failure_reason = graphene.String()
    metadata = JSON(required=True)
    page_count = graphene.Int()
    char_count = graphene.Int()
    chunk_count = graphene.Int()
    created_by = graphene.String(required=True)
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)
    processed_at = DateTime()

    @staticmethod
    @requires_scope(scopes.SPACES_READ)
    def resolve_space(document, info):
        from spaces.graphql.dataloaders import spaces_by_id_load

        return info.context.load(spaces_by_id_load, document.space_id)

    @staticmethod
    def resolve_status(document, info):
        return str(document.status)


class DocumentConnection(graphene.relay.Connection):
    class Meta:
        node = Document
