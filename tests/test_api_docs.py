"""The API describes itself at /openapi.json and /docs, without credentials; daphne serves no
static files, so the docs' and the admin's assets come through WhiteNoise."""

import io
import re

from django.core.management import call_command

from tests.auth.test_endpoint_matrix import ENDPOINTS


def test_openapi_document_is_public_and_lists_every_endpoint(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    for method, path, _, _ in ENDPOINTS:
        assert method in document["paths"][path], (method, path)
    assert "/api/v1/auth/login" in document["paths"]
    assert {"bearerAuth", "apiKeyHeader"} <= set(document["components"]["securitySchemes"])


def test_the_schema_generates_without_a_warning():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert '"openapi"' in out.getvalue()


def test_docs_page_and_its_assets_are_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r'src="([^"]+\.js)"', page.content.decode())
    assert scripts
    for src in scripts:
        asset = client.get(src)
        assert asset.status_code == 200, src
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])


def test_admin_assets_are_served(client):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200


def test_the_description_says_what_ships(client):
    document = client.get("/openapi.json").json()
    description = document["info"]["description"]
    assert "served as GraphQL at /graphql" in description
    assert "subscriptions over WebSocket" in description
    assert not [path for path in document["paths"] if "graphql" in path]
    assert {"/api/v1/spaces", "/api/v1/spaces/{space_id}/documents", "/api/v1/events",
            "/api/v1/queries/{query_id}/result"} <= set(document["paths"])
