"""Scopes fail closed: every method of every API view declares the scope it needs, and a method
that is not declared is refused even to an admin key."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from evaapi.auth.permissions import ScopePermission
from tests.factories import api_key_make, client_for

# Open on purpose (health, the API's description, login): they name no ScopePermission.
PUBLIC_VIEWS = {"health", "health-ready", "openapi", "docs", "auth-login"}


def _patterns(resolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) != "admin/":
                yield from _patterns(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_every_method_of_every_api_view_declares_its_scope():
    seen = set()
    for pattern in _patterns(get_resolver()):
        view_class = getattr(pattern.callback, "view_class", None)
        if pattern.name in PUBLIC_VIEWS:
            continue
        if pattern.name == "graphql":
            continue  # each root field declares its scope; tests/graphql/test_graphql_api.py checks them
        assert view_class is not None, pattern.name
        assert issubclass(view_class, APIView), pattern.name
        assert any(isinstance(p, ScopePermission) for p in view_class().get_permissions()), pattern.name
        for method in view_class.http_method_names:
            if method in {"head", "options"} or not hasattr(view_class, method):
                continue
            assert method.upper() in view_class.required_scopes, f"{pattern.name}: {method.upper()}"
            seen.add((pattern.name, method))
    assert ("api-keys", "post") in seen  # the walk reached the API


@pytest.mark.urls("tests.http.urls")
@pytest.mark.django_db
def test_an_undeclared_method_is_refused_even_to_an_admin(tenant):
    client = client_for(api_key_make(tenant))  # every scope, admin included
    assert client.get("/undeclared").status_code == 200
    response = client.post("/undeclared", {}, format="json")
    assert response.status_code == 403
    assert "No scope is declared" in response.json()["error"]["message"]


@pytest.mark.urls("tests.http.urls")
@pytest.mark.django_db
def test_a_method_the_view_lacks_is_still_405(tenant):
    response = client_for(api_key_make(tenant)).delete("/undeclared")
    assert response.status_code == 405
