"""Thin views: parse input, call one service or selector, shape output."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from evaapi.api.pagination import page_body, page_schema
from evaapi.api.schema import error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes
from spaces.queries import selectors, services
from spaces.queries.api.serializers import (
    QueryCreateInput,
    QueryListInput,
    QueryOutput,
    QueryResultOutput,
    QuerySubmitInput,
)
from spaces.queries.domain import query_parameters_make


def _submitted(request, *, space_id: str, data: dict) -> Response:
    query = services.query_submit(tenant=request.user.tenant, actor=request.user.actor, space_id=space_id,
                                  question=data["question"], parameters=query_parameters_make(data.get("parameters")))
    return Response(QueryOutput(query).data, status=status.HTTP_202_ACCEPTED,
                    headers={"Location": f"/api/v1/queries/{query.id}"})


_SUBMIT_ERRORS = error_responses(400, 401, 403, 404, 429)


class SpaceQueriesApi(ApiView):
    required_scopes = {"GET": scopes.QUERIES_EXECUTE, "POST": scopes.QUERIES_EXECUTE}

    @extend_schema(parameters=[QueryListInput], responses={200: page_schema("QueryPage", QueryOutput),
                   **error_responses(400, 401, 403, 404, 429)}, tags=["queries"], operation_id="space_query_list")
    def get(self, request, space_id: str):
        data = input_valid(QueryListInput, request.query_params)
        queries, continuation = selectors.query_list(
            tenant=request.user.tenant, space_id=space_id, status=data.get("status"), limit=data["limit"],
            continuation=data.get("continuation"),
        )
        return Response(page_body(queries, continuation, QueryOutput))

    @extend_schema(request=QuerySubmitInput, responses={202: QueryOutput, **_SUBMIT_ERRORS}, tags=["queries"],
                   operation_id="space_query_submit")
    def post(self, request, space_id: str):
        return _submitted(request, space_id=space_id, data=input_valid(QuerySubmitInput, request.data))


class QueryCreateApi(ApiView):
    required_scopes = {"POST": scopes.QUERIES_EXECUTE}

    @extend_schema(request=QueryCreateInput, responses={202: QueryOutput, **_SUBMIT_ERRORS}, tags=["queries"],
                   operation_id="query_submit")
    def post(self, request):
        data = input_valid(QueryCreateInput, request.data)
        return _submitted(request, space_id=str(data["space_id"]), data=data)


class QueryDetailApi(ApiView):
    required_scopes = {"GET": scopes.QUERIES_EXECUTE}

    @extend_schema(responses={200: QueryOutput, **error_responses(401, 403, 404, 429)}, tags=["queries"],
                   operation_id="query_get")
    def get(self, request, query_id: str):
        return Response(QueryOutput(selectors.query_get(tenant=request.user.tenant, query_id=query_id)).data)


class QueryResultApi(ApiView):
    required_scopes = {"GET": scopes.QUERIES_EXECUTE}

    @extend_schema(responses={200: QueryResultOutput, **error_responses(401, 403, 404, 409, 425, 429)},
                   tags=["queries"], operation_id="query_result")
    def get(self, request, query_id: str):
        return Response(QueryResultOutput(selectors.query_result(tenant=request.user.tenant, query_id=query_id)).data)


class QueryCancelApi(ApiView):
    required_scopes = {"POST": scopes.QUERIES_EXECUTE}

    @extend_schema(request=None, responses={200: QueryOutput, **error_responses(401, 403, 404, 409, 429)},
                   tags=["queries"], operation_id="query_cancel")
    def post(self, request, query_id: str):
        query = services.query_cancel(tenant=request.user.tenant, actor=request.user.actor, query_id=query_id)
        return Response(QueryOutput(query).data)
