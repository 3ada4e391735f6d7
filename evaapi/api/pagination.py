"""Continuation-token paging for list endpoints: `?limit=&continuation=` in, `{"items": [...],
"continuation": "..." | null}` out. The token is opaque; pass it back unchanged."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    continuation = serializers.CharField(required=False, allow_blank=False, max_length=2000)


def page_body(items, continuation, serializer_class) -> dict:
    return {"items": serializer_class(items, many=True).data, "continuation": continuation}


def page_schema(name: str, item_serializer):
    """The OpenAPI description of a page of `item_serializer` items."""
    return inline_serializer(
        name, {"items": item_serializer(many=True), "continuation": serializers.CharField(allow_null=True)}
    )
