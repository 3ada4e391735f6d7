"""Types every domain's schema shares: scalars, the typed user error of mutations."""

import graphene
from graphene.types.generic import GenericScalar
from graphql.language import StringValueNode

from evaapi.api.parsers import json_finite
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

    @staticmethod
    def parse_literal(ast, _variables=None):
        # A literal 1e999 reads as infinity, which no store takes (variables are JSON, read by
        # client_json_loads, which refuses it).
        value = GenericScalar.parse_literal(ast, _variables)
        if not json_finite(value):
            raise ValueError("Numbers in JSON are finite.")
        return value


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
