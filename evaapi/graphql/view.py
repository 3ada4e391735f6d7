"""`/graphql`: POST runs an operation (asynchronously, so the request's DataLoaders batch); GET
from a browser serves GraphiQL, its assets served by this server.

A POST goes: the body checked (JSON, `query` a string, `variables` an object); the caller
authenticated and rate limited exactly as REST does (one crossing to the sync pool for both);
the operation parsed, validated, measured (depth and cost limits, before anything runs), then
executed. Errors keep GraphQL's own shape (evaapi.graphql.errors)."""

import json
from inspect import isawaitable

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from graphql import (
    ExecutionContext,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    recommended_rules,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from evaapi.api.parsers import MAX_DEPTH, depth_exceeds
from evaapi.auth.authentication import credentials_of
from evaapi.auth.ratelimit import RateLimiterUnavailable
from evaapi.auth.refusals import client_refusal_check, client_refusal_count
from evaapi.auth.services.principals import principal_for
from evaapi.auth.throttling import principal_rate_limit
from evaapi.concurrency import run_sync
from evaapi.exceptions import NotAuthenticated, RateLimited, ServiceError, ServiceUnavailable
from evaapi.graphql.context import GraphQLContext
from evaapi.graphql.errors import error_formatted, request_error
from evaapi.graphql.limits import operation_measure
from evaapi.graphql.schema import schema


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
    if result is not None and not result.allowed:
        request.rate_limit = result
        raise RateLimited("Rate limit exceeded; see Retry-After.", retry_after=result.retry_after)
    request.rate_limit = result
    return principal


def _body(request) -> dict | JsonResponse:
    if request.content_type != "application/json":
        return _refused("Send the operation as application/json: {\"query\": ..., \"variables\": {...}}.",
                        "unsupported_media_type", 415)
    try:
        body = json.loads(request.body)
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


def _validation_rules():
    # graphql-core's recommended rule bounds introspection's own nesting (`fields { type {
    # fields ...`), which the depth and cost limits leave to it.
    rules = (*specified_rules, *recommended_rules)
    return rules if settings.GRAPHQL_INTROSPECTION else (*rules, NoSchemaIntrospectionCustomRule)


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
        return await _operation_checked_run(principal, body)
    except RecursionError:
        # Literals nested hundreds deep ({a: {a: ...}}) exhaust the parser's or a validator's stack.
        return _refused("The operation nests too deeply.", "graphql_parse_failed", 400)


async def _operation_checked_run(principal, body: dict) -> JsonResponse:
    graphql_schema = schema.graphql_schema
    try:
        document = parse(body["query"], max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError as error:
        return _response({"errors": [{**error.formatted, "extensions": {"code": "graphql_parse_failed"}}]}, 400)
    errors = validate(graphql_schema, document, _validation_rules())
    if errors:
        return _response({"errors": [{**error.formatted, "extensions": {"code": "graphql_validation_failed"}}
                                     for error in errors]}, 400)
    operation = get_operation_ast(document, body.get("operationName"))
    if operation is None:
        return _refused("Name the operation to run (operationName): the document holds several, or none by that "
                        "name.", "bad_request", 400)
    if operation.operation == OperationType.SUBSCRIPTION:
        return _refused("Subscriptions run over WebSocket (graphql-transport-ws) at this path.", "bad_request", 400)
    depth, cost = operation_measure(graphql_schema, document, operation, body.get("variables"))
    if depth > settings.GRAPHQL_MAX_DEPTH:
        return _refused(f"The operation is {depth} fields deep; the limit is {settings.GRAPHQL_MAX_DEPTH}.",
                        "query_too_deep", 400, None)
    if cost > settings.GRAPHQL_MAX_COST:
        return _response({"errors": [request_error(
            f"The operation may return {cost:,} objects; the limit is {settings.GRAPHQL_MAX_COST:,}. Ask for "
            "smaller pages (first) or fewer nested lists.", "query_too_costly", cost=cost,
            limit=settings.GRAPHQL_MAX_COST)]}, 400)
    arguments = {"context_value": GraphQLContext(principal=principal), "operation_name": body.get("operationName")}
    built = ExecutionContext.build(graphql_schema, document, raw_variable_values=body.get("variables"), **arguments)
    if isinstance(built, list):
        # The variables do not fit the operation: a request error, nothing ran.
        return _response({"errors": [{**error.formatted, "extensions": {"code": "graphql_validation_failed"}}
                                     for error in built]}, 400)
    result = execute(graphql_schema, document, variable_values=body.get("variables"), **arguments)
    if isawaitable(result):
        result = await result
    answer = {"data": result.data}
    if result.errors:
        answer["errors"] = [error_formatted(error) for error in result.errors]
    return _response(answer)
