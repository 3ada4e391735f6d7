"""Every endpoint that exists: 401 without credentials, 403 without its scope, 404 for another
tenant's resource (and that resource untouched), every successful write audited. The first
test keeps the table complete."""

import json
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from documents.services import document_upload
from evaapi.auth.services.api_keys import api_key_create
from spaces.queries.domain import QueryParameters
from spaces.queries.services import query_submit
from spaces.services import space_create
from tests.factories import api_key_make, client_for, tenant_make
from webhooks import repositories as webhook_repositories
from webhooks.domain import DeadLetter
from webhooks.services import endpoint_create


def _upload():
    return {"file": SimpleUploadedFile(f"n{uuid.uuid4().hex[:6]}.txt", uuid.uuid4().hex.encode() * 4)}


# (method, path, scope needed, body). {key_id}, {space_id} and {document_id} are resources of
# the caller's own tenant, or of another tenant in the 404 test. A callable body is multipart.
ENDPOINTS = [
    ("get", "/api/v1/auth/api-keys", "admin", None),
    ("post", "/api/v1/auth/api-keys", "admin", {"name": "k", "scopes": ["spaces:read"]}),
    ("get", "/api/v1/auth/api-keys/{key_id}", "admin", None),
    ("delete", "/api/v1/auth/api-keys/{key_id}", "admin", None),
    ("get", "/api/v1/audit-logs", "audit:read", None),
    ("get", "/api/v1/events", "spaces:read", None),
    ("get", "/api/v1/spaces", "spaces:read", None),
    ("post", "/api/v1/spaces", "spaces:write", {"name": "created"}),
    ("get", "/api/v1/spaces/{space_id}", "spaces:read", None),
    ("patch", "/api/v1/spaces/{space_id}", "spaces:write", {"description": "changed"}),
    ("delete", "/api/v1/spaces/{space_id}", "spaces:write", None),
    ("get", "/api/v1/spaces/{space_id}/documents", "documents:read", None),
    ("post", "/api/v1/spaces/{space_id}/documents", "documents:write", _upload),
    ("get", "/api/v1/documents/{document_id}", "documents:read", None),
    ("delete", "/api/v1/documents/{document_id}", "documents:write", None),
    ("get", "/api/v1/documents/{document_id}/content", "documents:read", None),
    ("get", "/api/v1/documents/{document_id}/chunks", "documents:read", None),
    ("get", "/api/v1/spaces/{space_id}/queries", "queries:execute", None),
    ("post", "/api/v1/spaces/{space_id}/queries", "queries:execute", {"question": "Which?"}),
    ("post", "/api/v1/queries", "queries:execute", {"space_id": "{space_id}", "question": "Which?"}),
    ("get", "/api/v1/queries/{query_id}", "queries:execute", None),
    ("get", "/api/v1/queries/{query_id}/result", "queries:execute", None),
    ("post", "/api/v1/queries/{query_id}/cancel", "queries:execute", None),
    ("get", "/api/v1/webhooks", "webhooks:manage", None),
    ("post", "/api/v1/webhooks", "webhooks:manage", {"url": "https://example.com/hook", "event_types": ["*"]}),
    ("get", "/api/v1/webhooks/{webhook_id}", "webhooks:manage", None),
    ("put", "/api/v1/webhooks/{webhook_id}", "webhooks:manage",
     {"url": "https://example.com/other", "event_types": ["space.*"]}),
    ("patch", "/api/v1/webhooks/{webhook_id}", "webhooks:manage", {"description": "changed"}),
    ("delete", "/api/v1/webhooks/{webhook_id}", "webhooks:manage", None),
    ("get", "/api/v1/webhooks/{webhook_id}/logs", "webhooks:manage", None),
    ("post", "/api/v1/webhooks/{webhook_id}/test", "webhooks:manage", None),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries", "webhooks:manage", None),
    ("post", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", "webhooks:manage", None),
    ("post", "/api/v1/webhooks/{webhook_id}/recover", "webhooks:manage", {"since": "2026-01-01T00:00:00Z"}),
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret", "webhooks:manage", None),
    ("get", "/api/v1/webhooks/dead-letters", "webhooks:manage", None),
    ("post", "/api/v1/webhooks/dead-letters/{letter_id}/replay", "webhooks:manage", None),
]
# Open on purpose: health, the API's description, and login (which is how one gets credentials).
PUBLIC = {"health", "health/ready", "openapi.json", "docs", "api/v1/auth/login"}
# One route, many operations: GraphQL's 401, per-field scopes and tenant walls are tested in
# tests/graphql (test_graphql_api, test_tenant_walls), operation by operation.
GRAPHQL = {"graphql"}
# Each resource's way back, to show a refused request left it untouched.
CHECK = {"key_id": "/api/v1/auth/api-keys/{key_id}", "space_id": "/api/v1/spaces/{space_id}",
         "document_id": "/api/v1/documents/{document_id}", "query_id": "/api/v1/queries/{query_id}",
         "webhook_id": "/api/v1/webhooks/{webhook_id}"}


def _routes(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_the_table_covers_every_api_route():
    routes = {r for r in _routes(get_resolver()) if not r.startswith("admin/")}
    tabled = {re.sub(r"\{(\w+)\}", r"<str:\1>", path.lstrip("/")) for _, path, _, _ in ENDPOINTS}
    assert routes == tabled | PUBLIC | GRAPHQL


def _names_a_resource(endpoint) -> bool:
    _, path, _, body = endpoint
    return bool(re.search(r"\{\w+\}", path + (json.dumps(body) if isinstance(body, dict) else "")))


def _resources(tenant) -> dict:
    """One of each resource, owned by `tenant`."""
    key, _ = api_key_create(tenant=tenant, actor="test", name="target", scopes=["spaces:read"])
    space = space_create(tenant=tenant, actor="test", name=f"target {uuid.uuid4().hex[:6]}")
    document = document_upload(tenant=tenant, actor="test", space_id=space.id, filename="target.txt",
                               file=SimpleUploadedFile("target.txt", uuid.uuid4().hex.encode() * 4))
    query = query_submit(tenant=tenant, actor="test", space_id=space.id, question="Which?",
                         parameters=QueryParameters())
    endpoint, _ = endpoint_create(tenant=tenant, actor="test", url="https://example.com/hook", event_types=["*"])
    # An event now makes a delivery to it; made dead, it has a dead letter.
    space_create(tenant=tenant, actor="test", name=f"hooked {uuid.uuid4().hex[:6]}")
    (delivery,) = webhook_repositories.delivery_page(webhook_id=endpoint.id, status=None, limit=1,
                                                     continuation=None)[0]
    item = webhook_repositories.delivery_item_read(webhook_id=endpoint.id, delivery_id=delivery.id)
    webhook_repositories.delivery_replace({**item, "status": "dead"}, etag=item["_etag"])
    webhook_repositories.dead_letters_upsert([DeadLetter(
        id=delivery.id, tenant_id=tenant.id, webhook_id=endpoint.id, delivery_id=delivery.id,
        event_id=delivery.event_id, event_type=delivery.event_type, failed_at=delivery.created_at,
        attempt_count=10, last_status_code=500, last_error="HTTP 500")], tenant_id=tenant.id)
    return {"key_id": key.id, "space_id": space.id, "document_id": document.id, "query_id": query.id,
            "webhook_id": endpoint.id, "delivery_id": delivery.id, "letter_id": delivery.id}


def _call(client, method, path, body, ids, **extra):
    if callable(body):
        return getattr(client, method)(path.format(**ids), body(), format="multipart", **extra)
    if body is not None:
        body = {name: value.format(**ids) if isinstance(value, str) else value for name, value in body.items()}
    return getattr(client, method)(path.format(**ids), body, format="json", **extra)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_no_credentials_is_401(tenant, method, path, scope, body):
    response = _call(client_for(), method, path, body, _resources(tenant))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="evaapi"'
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_bad_credentials_are_401(tenant, method, path, scope, body):
    own = api_key_make(tenant)
    ids = _resources(tenant)
    for bad in ("eva_" + "A" * 43, own[:-1] + ("B" if own[-1] != "B" else "C"), "not-a-token"):
        response = _call(client_for(bad), method, path, body, ids)
        assert response.status_code == 401, bad
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
@pytest.mark.django_db
def test_missing_scope_is_403(tenant, method, path, scope, body):
    others = [s for s in ("spaces:read", "documents:write", "audit:read") if s != scope]
    client = client_for(api_key_make(tenant, scopes=others))
    response = _call(client, method, path, body, _resources(tenant))
    assert response.status_code == 403
    assert scope in response.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), [e for e in ENDPOINTS if _names_a_resource(e)])
@pytest.mark.django_db
def test_another_tenants_resource_is_404_and_left_untouched(tenant, method, path, scope, body):
    other = tenant_make()
    theirs = _resources(other)
    client = client_for(api_key_make(tenant))
    response = _call(client, method, path, body, theirs)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    owner = client_for(api_key_make(other))
    for name, check in CHECK.items():
        assert owner.get(check.format(**theirs)).status_code == 200, name


@pytest.mark.parametrize(
    ("method", "path", "scope", "body"), [e for e in ENDPOINTS if e[0] in {"post", "put", "patch", "delete"}]
)
@pytest.mark.django_db
def test_every_successful_write_is_audited_with_its_request_id(tenant, method, path, scope, body):
    client = client_for(api_key_make(tenant))
    response = _call(client, method, path, body, _resources(tenant),
                     HTTP_X_REQUEST_ID=f"write-{method}-{uuid.uuid4().hex[:8]}")
    assert response.status_code < 300, response.content
    entries = client.get("/api/v1/audit-logs").json()["items"]
    assert response["X-Request-ID"] in [e["request_id"] for e in entries]
