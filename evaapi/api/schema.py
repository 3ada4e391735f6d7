"""OpenAPI pieces shared by every app's views."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorBody = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        ),
        "request_id": serializers.CharField(),
    },
)

IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                            description="The ETag of the version this change applies to; 412 if it is not current.")


def error_responses(*statuses: int) -> dict:
    """Error entries for @extend_schema(responses=...): the one error shape under each status."""
    return {status: OpenApiResponse(ErrorBody) for status in statuses}
