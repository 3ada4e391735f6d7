import graphene

from documents import services
from evaapi.auth import scopes
from evaapi.graphql.mutations import mutation_run
from evaapi.graphql.permissions import requires_scope
from evaapi.graphql.types import user_errors_field


class DeleteDocument(graphene.Mutation):
    """Deletes a document: hidden at once, its file and chunks removed in the background (needs
    documents:write). Uploads go through REST (multipart): POST /api/v1/spaces/{id}/documents."""

    class Arguments:
        id = graphene.UUID(required=True)

    deleted_id = graphene.UUID()
    errors = user_errors_field()

    @staticmethod
    @requires_scope(scopes.DOCUMENTS_WRITE)
    async def mutate(root, info, id):
        principal = info.context.principal

        def change():
            services.document_delete(tenant=principal.tenant, actor=principal.actor, document_id=str(id))
            return {"deleted_id": id}

        return await mutation_run(DeleteDocument, change)


class DocumentMutations(graphene.ObjectType):
    delete_document = DeleteDocument.Field()
