"""`/graphql`: POST runs an operation (asynchronously, so the request's DataLoaders batch); GET
from a browser serves GraphiQL, its assets served by this server.

A POST goes: the body checked (JSON, `query` a string, `variables` an object); the caller
authenticated as REST does, the operation parsed, validated and measured (depth and cost
limits, before anything runs), and the rate limit taken (one request per mutation), in one
crossing to the sync pool; then executed. Errors keep GraphQL's own shape
(evaapi.graphql.errors)."""


from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from evaapi.api.parsers import MAX_DEPTH, JSONRefused, client_json_loads, depth_exceeds
from evaapi.auth.authentication import credentials_of
from evaapi.auth.domain import Principal
from evaapi.auth.ratelimit import RateLimiterUnavailable
from evaapi.auth.refusals import client_refusal_count, client_refusal_guard
from evaapi.auth.services.principals import principal_for
from evaapi.concurrency import run_sync
from evaapi.exceptions import NotAuthenticated, RateLimited, ServiceError, ServiceUnavailable
from evaapi.graphql.context import GraphQLContext
from evaapi.graphql.errors import request_error
from evaapi.graphql.execution import (
    Operation,
    OperationRefused,
    answer_forbidden,
    operation_execute,
    operation_prepare,
    operation_rate_limit,
)


def _response(body: dict, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, headers=headers)
    # GraphQL's own shape ({"errors": [...]}), which the error-shape middleware leaves alone.
    response.is_error_shaped = True
    return response


def _refused(message: str, code: str, status: int, headers: dict | None = None) -> JsonResponse:
    return _response({"errors": [request_error(message, code)]}, status, headers)


def _admit(request, body: dict) -> tuple[Principal, Operation | OperationRefused]:
    """The caller authenticated and rate limited (the same checks as a REST request), and the
    operation prepared, in one crossing to the sync pool; or the ServiceError to answer with.
    The operation is prepared before the rate limit because each of its mutations counts as one
    request; one that cannot run counts as one."""
    with client_refusal_guard(request.client_ip):
        raw = credentials_of(request)
        if raw is None:
            raise NotAuthenticated("Authentication credentials were not provided.")
        principal = principal_for(credentials=raw)
    try:
        prepared = operation_prepare(body["query"], body.get("variables"), body.get("operationName"))
    except OperationRefused as refused:
        prepared = refused
    try:
        result = operation_rate_limit(principal, prepared if isinstance(prepared, Operation) else None)
    except RateLimiterUnavailable:
        raise ServiceUnavailable("Rate limiting is unavailable; try again shortly.") from None
    except OperationRefused as too_many:
        return principal, too_many
    request.rate_limit = result  # for the X-RateLimit-* headers (RateLimitHeadersMiddleware)
    if result is not None and not result.allowed:
        raise RateLimited("Rate limit exceeded; see Retry-After.", retry_after=result.retry_after)
    return principal, prepared


def _body(request) -> dict | JsonResponse:
    if request.content_type != "application/json":
        return _refused("Send the operation as application/json: {\"query\": ..., \"variables\": {...}}.",
                        "unsupported_media_type", 415)
    try:
        body = client_json_loads(request.body)
    except JSONRefused as exc:
        return _refused(f"The request body holds {exc}.", "bad_request", 400)
    except (ValueError, RecursionError):
        return _refused("The request body is not valid JSON.", "bad_request", 400)
    if depth_exceeds(body, MAX_DEPTH):
        return _refused(f"The request body nests deeper than {MAX_DEPTH} levels.", "bad_request", 400)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
        return _refused("The body must be an object with the operation as a string in \"query\".", "bad_request", 400)
    # Checked against None, not falsiness: 0, false and "" are not "no variables".
    if body.get("variables") is not None and not isinstance(body["variables"], dict):
        return _refused("\"variables\" must be an object (or null).", "bad_request", 400)
    if body.get("operationName") is not None and not isinstance(body["operationName"], str):
        return _refused("\"operationName\" must be a string (or null).", "bad_request", 400)
    return body


async def graphql_view(request):
    if request.method == "GET":
        if "text/html" in request.headers.get("Accept", ""):
            return render(request, "graphql/graphiql.html")
        return _refused("Send operations with POST; GET serves GraphiQL to browsers.", "method_not_allowed", 405,
                        {"Allow": "GET, POST"})
    if request.method != "POST":
        return _refused("Send operations with POST.", "method_not_allowed", 405, {"Allow": "GET, POST"})
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    try:
        principal, prepared = await run_sync(_admit, request, body)
    except ServiceError as exc:
        return _refused(exc.message, exc.code, exc.status, exc.headers)
    if isinstance(prepared, OperationRefused):
        return _response({"errors": prepared.errors}, 400)
    if prepared.is_subscription:
        return _refused("Subscriptions run over WebSocket (graphql-transport-ws) at this path.", "bad_request", 400)
    answer = await operation_execute(prepared, GraphQLContext(principal=principal))
    if answer_forbidden(answer):
        # Counted as REST counts a 403. The answer stands even past the limit: the operation ran
        # (its mutations may have applied); the client's next requests are refused.
        await run_sync(client_refusal_count, request.client_ip)
    return _response(answer)
