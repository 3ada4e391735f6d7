from django.urls import path

from documents.api import views

# Uploads may be larger than any other body: the request-body guard (evaapi/asgi.py) gives
# POSTs to this path EVA_MAX_UPLOAD_MB.
UPLOAD_PATH = r"^/api/v1/spaces/[^/]+/documents$"

urlpatterns = [
    path("spaces/<str:space_id>/documents", views.SpaceDocumentsApi.as_view(), name="space-documents"),
    path("documents/<str:document_id>", views.DocumentDetailApi.as_view(), name="document-detail"),
    path("documents/<str:document_id>/content", views.DocumentContentApi.as_view(), name="document-content"),
    path("documents/<str:document_id>/chunks", views.DocumentChunksApi.as_view(), name="document-chunks"),
]
