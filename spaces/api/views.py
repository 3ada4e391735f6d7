"""Thin views: parse input, call one service or selector, shape output."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from evaapi.api.pagination import page_body, page_schema
from evaapi.api.schema import IF_MATCH, error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes
from spaces import selectors, services
from spaces.api.serializers import SpaceCreateInput, SpaceListInput, SpaceOutput, SpaceUpdateInput


def _space_response(space, *, status_code=status.HTTP_200_OK, headers=None) -> Response:
    return Response(SpaceOutput(space).data, status=status_code, headers={"ETag": space.etag, **(headers or {})})


class SpaceListCreateApi(ApiView):
    required_scopes = {"GET": scopes.SPACES_READ, "POST": scopes.SPACES_WRITE}

    @extend_schema(parameters=[SpaceListInput], responses={200: page_schema("SpacePage", SpaceOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["spaces"], operation_id="space_list")
    def get(self, request):
        data = input_valid(SpaceListInput, request.query_params)
        spaces, continuation = selectors.space_list(
            tenant=request.user.tenant, tag=data.get("tag"), sort=data["sort"], limit=data["limit"],
            continuation=data.get("continuation"),
        )
        return Response(page_body(spaces, continuation, SpaceOutput))

    @extend_schema(request=SpaceCreateInput, responses={201: SpaceOutput, **error_responses(400, 401, 403, 409, 429)},
                   tags=["spaces"], operation_id="space_create")
    def post(self, request):
        data = input_valid(SpaceCreateInput, request.data)
        space = services.space_create(tenant=request.user.tenant, actor=request.user.actor, **data)
        return _space_response(space, status_code=status.HTTP_201_CREATED,
                               headers={"Location": f"/api/v1/spaces/{space.id}"})


class SpaceDetailApi(ApiView):
    required_scopes = {"GET": scopes.SPACES_READ, "PATCH": scopes.SPACES_WRITE, "DELETE": scopes.SPACES_WRITE}

    @extend_schema(responses={200: SpaceOutput, **error_responses(401, 403, 404, 429)}, tags=["spaces"],
                   operation_id="space_get")
    def get(self, request, space_id: str):
        return _space_response(selectors.space_get(tenant=request.user.tenant, space_id=space_id))

    @extend_schema(request=SpaceUpdateInput, parameters=[IF_MATCH],
                   responses={200: SpaceOutput, **error_responses(400, 401, 403, 404, 409, 412, 429)},
                   tags=["spaces"], operation_id="space_update")
    def patch(self, request, space_id: str):
        changes = input_valid(SpaceUpdateInput, request.data)
        space = services.space_update(tenant=request.user.tenant, actor=request.user.actor, space_id=space_id,
                                      changes=changes, if_match=request.headers.get("If-Match"))
        return _space_response(space)

    @extend_schema(parameters=[IF_MATCH], responses={204: None, **error_responses(401, 403, 404, 412, 429)},
                   tags=["spaces"], operation_id="space_delete")
    def delete(self, request, space_id: str):
        services.space_delete(tenant=request.user.tenant, actor=request.user.actor, space_id=space_id,
                              if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)
