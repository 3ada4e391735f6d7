"""How a mutation runs a service: on the sync pool, its refusals returned as typed user errors."""

from rest_framework.exceptions import ValidationError

from evaapi.api.views import input_valid
from evaapi.concurrency import run_sync
from evaapi.exceptions import ServiceError
from evaapi.graphql.errors import user_errors


async def mutation_run(payload_type, change):
    """`change()` (a sync callable: validate the input, call one service) on the sync pool; its
    result is the payload's fields (a dict), or a ServiceError or ValidationError becomes the
    payload's `errors`."""
    try:
        fields = await run_sync(change)
    except (ServiceError, ValidationError) as exc:
        return payload_type(errors=user_errors(exc))
    return payload_type(errors=[], **fields)


def input_checked(serializer_class, graphql_input) -> dict:
    """The input checked by the REST operation's own serializer: one set of rules for both APIs."""
    return dict(input_valid(serializer_class, _plain(graphql_input)))


def _plain(value):
    """GraphQL input (InputObjectType containers, UUIDs) as the plain data a serializer takes."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value
