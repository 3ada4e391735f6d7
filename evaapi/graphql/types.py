"""Types every domain's schema shares: scalars, the typed user error of mutations."""

import math

import graphene
from graphene.types.generic import GenericScalar
from graphql.language import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    VariableNode,
)

from evaapi.api.parsers import INTEGER_MAX
from evaapi.times import parse_iso


class DateTime(graphene.Scalar):
    """An ISO-8601 time in UTC with a Z (2026-11-28T07:00:00.000000Z), as the REST API writes it."""

    @staticmethod
    def serialize(value):
        return value

    @staticmethod
    def parse_value(value):
        if not isinstance(value, str) or parse_iso(value) is None:
            raise ValueError("Not an ISO-8601 time.")
        return parse_iso(value)

    @classmethod
    def parse_literal(cls, node, _variables=None):
        if isinstance(node, StringValueNode):
            return cls.parse_value(node.value)
        raise ValueError("Not an ISO-8601 time.")


class JSON(GenericScalar):
    """Any JSON value (an object, for metadata and event data)."""

    @classmethod
    def parse_literal(cls, node, variables=None):
        # GenericScalar's read an integer past 32 bits, or a variable inside the literal, as null
        # (what was stored), and 1e999 as infinity (which no store takes). The limits are
        # client_json_loads's, which reads variables.
        if isinstance(node, StringValueNode | BooleanValueNode):  # the parser refuses "\ud800" itself
            return node.value
        if isinstance(node, IntValueNode):
            value = int(node.value)
            if abs(value) > INTEGER_MAX:
                raise ValueError(f"Integers in JSON are within ±{INTEGER_MAX}.")
            return value
        if isinstance(node, FloatValueNode):
            value = float(node.value)
            if not math.isfinite(value):
                raise ValueError("Numbers in JSON are finite.")
            return value
        if isinstance(node, NullValueNode):
            return None
        if isinstance(node, ListValueNode):
            return [cls.parse_literal(value, variables) for value in node.values]
        if isinstance(node, ObjectValueNode):
            return {field.name.value: cls.parse_literal(field.value, variables) for field in node.fields}
        if isinstance(node, VariableNode):
            return (variables or {}).get(node.name.value)
        raise ValueError("Not a JSON value.")  # an enum value (a bare name)


class UserError(graphene.ObjectType):
    """Why a mutation did not apply: the input field at fault (null when none is), a code (the
    REST error codes: validation_error, not_found, conflict, ...) and a message."""

    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


def user_errors_field():
    return graphene.List(graphene.NonNull(UserError), required=True)


def enum_value(value):
    """An enum argument's value ("-name"), whether graphene passes the member or its default."""
    return getattr(value, "value", value)
