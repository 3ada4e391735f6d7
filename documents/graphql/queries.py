from functools import partial

import graphene

from documents import selectors
from documents.graphql.types import Document, DocumentConnection, DocumentStatus
from evaapi.auth import scopes
from evaapi.concurrency import run_sync
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.relay import after_argument, first_argument, page_connection
from evaapi.graphql.types import enum_value


class DocumentQueries(graphene.ObjectType):
    document = graphene.Field(Document, id=graphene.UUID(required=True),
                              description="A document of yours (needs documents:read).")
    documents = graphene.Field(
        graphene.NonNull(DocumentConnection), space_id=graphene.UUID(required=True), first=first_argument(),
        after=after_argument(), status=graphene.Argument(DocumentStatus),
        description="A space's documents, newest first (needs documents:read).")

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    async def resolve_document(root, info, id):
        return await run_sync(selectors.document_get, tenant=info.context.tenant, document_id=str(id))

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_READ)
    async def resolve_documents(root, info, space_id, first, after=None, status=None):
        read = partial(selectors.document_list, tenant=info.context.tenant, space_id=str(space_id),
                       status=enum_value(status))
        return await run_sync(page_connection, DocumentConnection, read, first=first, after=after)
