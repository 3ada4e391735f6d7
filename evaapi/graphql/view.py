"""`/graphql`: POST runs an operation (asynchronously, so the request's DataLoaders batch); GET
from a browser serves GraphiQL, its assets served by this server.

A POST goes: the body checked (JSON, `query` a string, `variables` an object); the caller
authenticated and rate limited exactly as REST does (one crossing to the sync pool for both);
the operation parsed, validated, measured (depth and cost limits, before anything runs), then
executed. Errors keep GraphQL's own shape (evaapi.graphql.errors)."""


from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from evaapi.api.parsers import MAX_DEPTH, JSONRefused, client_json_loads, depth_exceeds
from evaapi.auth.authentication import credentials_of
from evaapi.auth.ratelimit import RateLimiterUnavailable
from evaapi.auth.refusals import client_refusal_check, client_refusal_count
from evaapi.auth.services.principals import principal_for
from evaapi.auth.throttling import principal_rate_limit
from evaapi.concurrency import run_sync
from evaapi.exceptions import NotAuthenticated, RateLimited, ServiceError, ServiceUnavailable
from evaapi.graphql.context import GraphQLContext
from evaapi.graphql.errors import request_error
from evaapi.graphql.execution import OperationRefused, operation_execute, operation_prepare


def _response(body: dict, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, headers=headers)
    # GraphQL's own shape ({"errors": [...]}), which the error-shape middleware leaves alone.
    response.is_error_shaped = True
    return response


def _refused(message: str, code: str, status: int, headers: dict | None = None) -> JsonResponse:
    return _response({"errors": [request_error(message, code)]}, status, headers)


def _authenticate(request):
    """The caller's principal and rate-limit result (the same checks as a REST request), or the
    ServiceError to answer with."""
    client_refusal_check(request.client_ip)
    raw = credentials_of(request)
    try:
        if raw is None:
            raise NotAuthenticated("Authentication credentials were not provided.")
        principal = principal_for(credentials=raw)
    except ServiceError as exc:
        if exc.status in (401, 403):
            refused = client_refusal_count(request.client_ip)
            if refused is not None:
                raise refused from None
        raise
    try:
        result = principal_rate_limit(principal)
    except RateLimiterUnavailable:
        raise ServiceUnavailable("Rate limiting is unavailable; try again shortly.") from None
    request.rate_limit = result  # for the X-RateLimit-* headers (RateLimitHeadersMiddleware)
    if result is not None and not result.allowed:
        raise RateLimited("Rate limit exceeded; see Retry-After.", retry_after=result.retry_after)
    return principal


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
    if not isinstance(body.get("variables") or {}, dict):
        return _refused("\"variables\" must be an object.", "bad_request", 400)
    if not isinstance(body.get("operationName") or "", str):
        return _refused("\"operationName\" must be a string.", "bad_request", 400)
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
        principal = await run_sync(_authenticate, request)
    except ServiceError as exc:
        return _refused(exc.message, exc.code, exc.status, exc.headers)
    return await _operation_run(principal, body)


async def _operation_run(principal, body: dict) -> JsonResponse:
    try:
        operation = operation_prepare(body["query"], body.get("variables"), body.get("operationName"))
    except OperationRefused as refused:
        return _response({"errors": refused.errors}, 400)
    if operation.is_subscription:
        return _refused("Subscriptions run over WebSocket (graphql-transport-ws) at this path.", "bad_request", 400)
    return _response(await operation_execute(operation, GraphQLContext(principal=principal)))
