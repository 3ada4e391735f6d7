"""Running an operation, wherever it came from (POST /graphql, or a WebSocket): parsed,
validated and measured against the limits before anything runs, then executed or subscribed."""

import asyncio
import logging
from asyncio import Future
from dataclasses import dataclass
from inspect import isawaitable
from types import CoroutineType

from django.conf import settings
from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    recommended_rules,
    specified_rules,
    validate,
)
from graphql.execution import create_source_event_stream
from graphql.validation import NoSchemaIntrospectionCustomRule

from evaapi.auth.throttling import CostOverBurst, principal_rate_limit
from evaapi.graphql.errors import error_formatted, request_error
from evaapi.graphql.limits import operation_measure, root_mutations_count
from evaapi.graphql.schema import schema

logger = logging.getLogger(__name__)


class OperationRefused(Exception):
    """The operation cannot run: its errors (GraphQL's shape), nothing ran."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["message"])
        self.errors = errors


@dataclass(frozen=True)
class Operation:
    document: DocumentNode
    definition: OperationDefinitionNode
    variables: dict | None
    name: str | None
    source: str  # the operation's text, as sent
    mutations: int  # root mutation fields: each counts against the rate limit as one request

    @property
    def is_subscription(self) -> bool:
        return self.definition.operation == OperationType.SUBSCRIPTION

    @property
    def rate_units(self) -> int:
        """The requests the operation counts as against the caller's rate limit."""
        return max(1, self.mutations)


def _validation_rules():
    # graphql-core's recommended rule bounds introspection's own nesting (`fields { type {
    # fields ...`), which the depth and cost limits leave to it.
    rules = (*specified_rules, *recommended_rules)
    return rules if settings.GRAPHQL_INTROSPECTION else (*rules, NoSchemaIntrospectionCustomRule)


def _coded(errors, code: str) -> list[dict]:
    return [{**error.formatted, "extensions": {"code": code}} for error in errors]


def operation_prepare(query: str, variables: dict | None, name: str | None) -> Operation:
    """The operation checked: syntax, schema, depth and cost; OperationRefused otherwise."""
    try:
        return _prepare(query, variables, name)
    except RecursionError:
        # Literals nested hundreds deep ({a: {a: ...}}) exhaust the parser's or a validator's stack.
        raise OperationRefused([request_error("The operation nests too deeply.", "graphql_parse_failed")]) from None


def _prepare(query: str, variables: dict | None, name: str | None) -> Operation:
    graphql_schema = schema.graphql_schema
    try:
        document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError as error:
        raise OperationRefused(_coded([error], "graphql_parse_failed")) from None
    errors = validate(graphql_schema, document, _validation_rules())
    if errors:
        raise OperationRefused(_coded(errors, "graphql_validation_failed"))
    definition = get_operation_ast(document, name)
    if definition is None:
        raise OperationRefused([request_error(
            "Name the operation to run (operationName): the document holds several, or none by that name.",
            "bad_request")])
    # Measured with the variables as execution will read them: coerced (60.0 is the Int 60) and
    # with their defaults; the raw values would let a costly `first` through uncounted.
    built = ExecutionContext.build(graphql_schema, document, raw_variable_values=variables, operation_name=name)
    if isinstance(built, list):
        raise OperationRefused(_coded(built, "graphql_validation_failed"))  # variables that do not fit
    depth, cost = operation_measure(graphql_schema, document, definition, built.variable_values)
    if depth > settings.GRAPHQL_MAX_DEPTH:
        raise OperationRefused([request_error(
            f"The operation is {depth} fields deep; the limit is {settings.GRAPHQL_MAX_DEPTH}.", "query_too_deep")])
    if cost > settings.GRAPHQL_MAX_COST:
        raise OperationRefused([request_error(
            f"The operation may return {cost:,} objects; the limit is {settings.GRAPHQL_MAX_COST:,}. Ask for "
            "smaller pages (first) or fewer nested lists.", "query_too_costly", cost=cost,
            limit=settings.GRAPHQL_MAX_COST)])
    return Operation(document=document, definition=definition, variables=variables, name=name, source=query,
                     mutations=root_mutations_count(graphql_schema, document, definition, built.variable_values))


def operation_rate_limit(principal, operation: Operation | None):
    """Takes the operation's requests from the caller's rate limit, as REST takes a request's:
    one per root mutation field, at least one (None: an operation that cannot run, one). The
    limiter's result, for the caller to answer when it refuses; OperationRefused when the
    operation holds more mutations than the caller's limit lets through at once (it could
    never run); RateLimiterUnavailable when the limiter cannot reach Redis and fails closed."""
    units = operation.rate_units if operation is not None else 1
    try:
        return principal_rate_limit(principal, cost=units)
    except CostOverBurst as exc:
        raise OperationRefused([request_error(
            f"The operation holds {exc.cost} mutations, and each counts as one request: your rate limit lets at "
            f"most {exc.burst} through at once. Send them in smaller operations.", "too_many_mutations",
            mutations=exc.cost, limit=exc.burst)]) from None


def answer_forbidden(answer: dict) -> bool:
    """Whether the answer holds a `forbidden` error (a scope the caller lacks): such an answer
    counts once against the client's limit on refused requests, as a REST 403 does."""
    return any((error.get("extensions") or {}).get("code") == "forbidden" for error in answer.get("errors", ()))


def _is_awaitable(value) -> bool:
    # What resolvers here return when they wait: coroutines and futures (DataLoader results).
    # graphql-core's general check, run for every field, costs several times more.
    return isinstance(value, CoroutineType | Future)


async def _run_to_end(result) -> ExecutionResult:
    """graphql-core's result, its execution run to the end even when the wait on it is cancelled
    (a client gone). Cancelled part-way, an execution leaves the coroutines it had made for fields
    not started yet never awaited (a RuntimeWarning each when they are collected), and the
    DataLoaders' futures cancelled under the batches that fill them (InvalidStateError in the
    batch's task). So it runs as a task of its own, which a cancelled request leaves to finish
    (no longer than the cost limit lets it): the request's wait returns at once."""
    if not isawaitable(result):
        return result
    execution = asyncio.ensure_future(result)
    try:
        return await asyncio.shield(execution)
    except asyncio.CancelledError:
        execution.add_done_callback(_abandoned_done)
        raise


def _abandoned_done(execution: asyncio.Future) -> None:
    # graphql-core turns resolvers' errors into the result's errors: one raised here is a bug,
    # and nobody is left to read it.
    if not execution.cancelled() and execution.exception() is not None:
        logger.error("a GraphQL execution whose request was cancelled failed", exc_info=execution.exception())


async def operation_execute(operation: Operation, context) -> dict:
    """A query or mutation's result, formatted: {"data": ..., "errors"?: [...]}."""
    return result_formatted(await _run_to_end(execute(
        schema.graphql_schema, operation.document, context_value=context, variable_values=operation.variables,
        operation_name=operation.name, is_awaitable=_is_awaitable)))


async def operation_subscribe(operation: Operation, context):
    """A subscription's source stream (what its `subscribe_…` returned: the events it yields),
    or an ExecutionResult with its errors. Each event becomes a result through
    `subscription_event_execute`."""
    return await create_source_event_stream(schema.graphql_schema, operation.document, context_value=context,
                                            variable_values=operation.variables, operation_name=operation.name)


async def subscription_event_execute(operation: Operation, context, event) -> dict:
    """One event of a subscription's stream, as the subscriber's result, formatted."""
    return result_formatted(await _run_to_end(execute(
        schema.graphql_schema, operation.document, root_value=event, context_value=context,
        variable_values=operation.variables, operation_name=operation.name, is_awaitable=_is_awaitable)))


def result_formatted(result: ExecutionResult) -> dict:
    answer = {"data": result.data}
    if result.errors:
        answer["errors"] = [error_formatted(error) for error in result.errors]
    return answer
