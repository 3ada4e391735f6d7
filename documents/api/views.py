"""Thin views: parse input, call one service or selector, shape output."""

from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from documents import selectors, services, storage
from documents.api.serializers import (
    ChunkOutput,
    DocumentListInput,
    DocumentOutput,
    DocumentUploadInput,
)
from evaapi.api.pagination import PageInput, page_body, page_schema
from evaapi.api.schema import IF_MATCH, error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes
from evaapi.concurrency import run_sync

_DOWNLOAD_BLOCK = 256 * 1024


class SpaceDocumentsApi(ApiView):
    required_scopes = {"GET": scopes.DOCUMENTS_READ, "POST": scopes.DOCUMENTS_WRITE}

    def get_parsers(self):
        # Uploads are multipart; reading a list takes no body at all.
        return [MultiPartParser()]

    @extend_schema(parameters=[DocumentListInput], responses={200: page_schema("DocumentPage", DocumentOutput),
                   **error_responses(400, 401, 403, 404, 429)}, tags=["documents"], operation_id="document_list")
    def get(self, request, space_id: str):
        data = input_valid(DocumentListInput, request.query_params)
        documents, continuation = selectors.document_list(
            tenant=request.user.tenant, space_id=space_id, status=data.get("status"), limit=data["limit"],
            continuation=data.get("continuation"),
        )
        return Response(page_body(documents, continuation, DocumentOutput))

    @extend_schema(request={"multipart/form-data": DocumentUploadInput},
                   responses={201: DocumentOutput, **error_responses(400, 401, 403, 404, 409, 413, 415, 429)},
                   tags=["documents"], operation_id="document_upload")
    def post(self, request, space_id: str):
        data = input_valid(DocumentUploadInput, request.data)
        upload = data["file"]
        document = services.document_upload(
            tenant=request.user.tenant, actor=request.user.actor, space_id=space_id, file=upload,
            filename=upload.name or "upload", metadata=data.get("metadata"),
        )
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/documents/{document.id}", "ETag": document.etag})


class DocumentDetailApi(ApiView):
    required_scopes = {"GET": scopes.DOCUMENTS_READ, "DELETE": scopes.DOCUMENTS_WRITE}

    @extend_schema(responses={200: DocumentOutput, **error_responses(401, 403, 404, 429)}, tags=["documents"],
                   operation_id="document_get")
    def get(self, request, document_id: str):
        document = selectors.document_get(tenant=request.user.tenant, document_id=document_id)
        return Response(DocumentOutput(document).data, headers={"ETag": document.etag})

    @extend_schema(parameters=[IF_MATCH], responses={204: None, **error_responses(401, 403, 404, 409, 412, 429)},
                   tags=["documents"], operation_id="document_delete")
    def delete(self, request, document_id: str):
        services.document_delete(tenant=request.user.tenant, actor=request.user.actor, document_id=document_id,
                                 if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentContentApi(ApiView):
    required_scopes = {"GET": scopes.DOCUMENTS_READ}

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The file."),
                              302: OpenApiResponse(description="Blob Storage: a short-lived signed URL."),
                              **error_responses(401, 403, 404, 429)},
                   tags=["documents"], operation_id="document_content")
    def get(self, request, document_id: str):
        document = selectors.document_get(tenant=request.user.tenant, document_id=document_id)
        url = storage.blob_download_url(document.blob_name)
        if url is not None:
            return HttpResponseRedirect(url)
        file = storage.blob_open(document.blob_name)
        response = StreamingHttpResponse(_blocks(file), content_type=document.media_type)
        response["Content-Length"] = str(document.size_bytes)
        # RFC 6266: an ASCII filename as is, any other as filename*=UTF-8''... (a header Django
        # would otherwise MIME-encode whole, losing the attachment and the name).
        response["Content-Disposition"] = content_disposition_header(True, document.filename)
        return response


async def _blocks(file):
    """The file in blocks, read off the event loop (an async iterator: Django streams it under
    ASGI without a thread per block, and under WSGI too)."""
    try:
        while block := await run_sync(file.read, _DOWNLOAD_BLOCK):
            yield block
    finally:
        await run_sync(file.close)


class DocumentChunksApi(ApiView):
    required_scopes = {"GET": scopes.DOCUMENTS_READ}

    @extend_schema(parameters=[PageInput], responses={200: page_schema("ChunkPage", ChunkOutput),
                   **error_responses(400, 401, 403, 404, 429)}, tags=["documents"], operation_id="document_chunks")
    def get(self, request, document_id: str):
        page = input_valid(PageInput, request.query_params)
        chunks, continuation = selectors.document_chunks(
            tenant=request.user.tenant, document_id=document_id, limit=page["limit"],
            continuation=page.get("continuation"),
        )
        return Response(page_body(chunks, continuation, ChunkOutput))
