"""Every endpoint that exists: 401 without credentials, 403 without its scope, 404 for another
tenant's resource. The first test keeps the table complete."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import api_key_make, client_for, tenant_make

# (method, path, scope needed, body). {key_id} is a resource of the caller's own tenant, or of
# another tenant in the 404 test.
ENDPOINTS = [
    ("get", "/api/v1/auth/api-keys", "admin", None),
    ("post", "/api/v1/auth/api-keys", "admin", {"name": "k", "scopes": ["spaces:read"]}),
    ("get", "/api/v1/auth/api-keys/{key_id}", "admin", None),
    ("delete", "/api/v1/auth/api-keys/{key_id}", "admin", None),
    ("get", "/api/v1/audit-logs", "audit:read", None),
]
# Open on purpose: health, the API's description, and login (which is how one gets credentials).
PUBLIC = {"health", "health/ready", "openapi.json", "docs", "api/v1/auth/login"}


def _routes(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_the_table_covers_every_api_route():
    routes = {r for r in _routes(get_resolver()) if not r.startswith("admin/")}
    tabled = {path.lstrip("/").replace("{key_id}", "<str:key_id>") for _, path, _, _ in ENDPOINTS}
    assert routes == tabled | PUBLIC


def _key_id(secret: str) -> str:
    return secret[4:16]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_no_credentials_is_401(tenant, method, path, scope, body):
    own = api_key_make(tenant)
    response = getattr(client_for(), method)(path.format(key_id=_key_id(own)), body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="evaapi"'
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_bad_credentials_are_401(tenant, method, path, scope, body):
    own = api_key_make(tenant)
    for bad in ("eva_" + "A" * 43, own[:-1] + ("B" if own[-1] != "B" else "C"), "not-a-token"):
        response = getattr(client_for(bad), method)(path.format(key_id=_key_id(own)), body, format="json")
        assert response.status_code == 401, bad
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_missing_scope_is_403(tenant, method, path, scope, body):
    own = api_key_make(tenant)
    others = [s for s in ("spaces:read", "documents:write", "audit:read") if s != scope]
    client = client_for(api_key_make(tenant, scopes=others))
    response = getattr(client, method)(path.format(key_id=_key_id(own)), body, format="json")
    assert response.status_code == 403
    assert scope in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "scope", "body"), [e for e in ENDPOINTS if "{key_id}" in e[1]]
)
@pytest.mark.django_db
def test_another_tenants_resource_is_404(tenant, method, path, scope, body):
    theirs = api_key_make(tenant_make())
    client = client_for(api_key_make(tenant))
    response = getattr(client, method)(path.format(key_id=_key_id(theirs)), body, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    # ... and it is untouched: the other tenant's key still works.
    assert client_for(theirs).get("/api/v1/audit-logs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "scope", "body"), [e for e in ENDPOINTS if e[0] in {"post", "put", "patch", "delete"}]
)
@pytest.mark.django_db
def test_every_successful_write_is_audited_with_its_request_id(tenant, method, path, scope, body):
    own = api_key_make(tenant)
    client = client_for(api_key_make(tenant))
    response = getattr(client, method)(path.format(key_id=_key_id(own)), body, format="json",
                                       HTTP_X_REQUEST_ID=f"write-{method}-{uuid.uuid4().hex[:8]}")
    assert response.status_code < 300
    entries = client.get("/api/v1/audit-logs").json()["items"]
    assert response["X-Request-ID"] in [e["request_id"] for e in entries]
