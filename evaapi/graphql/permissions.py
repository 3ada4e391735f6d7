"""Scopes in GraphQL: the same scopes as REST, declared on each resolver that reads or writes a
domain, and failing closed: a root field whose resolver declares no scope stops the schema from
being built, as a REST method without a declared scope is refused to everyone."""

import functools
import inspect

from django.core.exceptions import ImproperlyConfigured
from graphql import GraphQLSchema

from evaapi.exceptions import Forbidden


def _check(info, scope: str) -> None:
    if not info.context.principal.has_scope(scope):
        raise Forbidden(f"This needs the scope {scope!r}.")


def requires_scope(scope: str):
    """Decorates a resolver (or a mutation's `mutate`): the caller must hold `scope`."""

    def decorate(resolver):
        if inspect.iscoroutinefunction(resolver):
            @functools.wraps(resolver)
            async def checked(root, info, **kwargs):
                _check(info, scope)
                return await resolver(root, info, **kwargs)
        else:
            @functools.wraps(resolver)
            def checked(root, info, **kwargs):
                _check(info, scope)
                return resolver(root, info, **kwargs)
        checked.required_scope = scope
        return checked

    return decorate


def root_scopes_check(schema: GraphQLSchema) -> None:
    """Every field of the root query and mutation types declares its scope, and so does every
    subscription's `subscribe_…`."""
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        for name, graphql_field in (root.fields if root else {}).items():
            resolver = graphql_field.subscribe if root is schema.subscription_type else graphql_field.resolve
            if getattr(resolver, "required_scope", None) is None:
                raise ImproperlyConfigured(f"GraphQL {root.name}.{name} declares no scope (use @requires_scope).")
