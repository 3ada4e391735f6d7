"""GET /api/v1/events: a tenant's events, newest first, paged, by type (exact or family) and space."""

import pytest

from evaapi.store.metrics import count_store_calls
from tests.factories import api_key_make, client_for, tenant_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    client = client_for(api_key_make(tenant_make()))
    spaces = [client.post("/api/v1/spaces", {"name": f"s{n}"}, format="json").json() for n in range(3)]
    client.patch(f"/api/v1/spaces/{spaces[0]['id']}", {"description": "d"}, format="json")
    client.delete(f"/api/v1/spaces/{spaces[1]['id']}")
    return client, spaces


def test_newest_first_and_paged(history):
    client, _ = history
    seen, continuation = [], None
    while True:
        body = client.get("/api/v1/events", {"limit": 2, **({"continuation": continuation} if continuation else {})})
        assert body.status_code == 200
        seen += body.json()["items"]
        continuation = body.json()["continuation"]
        if not continuation:
            break
    assert [e["type"] for e in seen] == ["space.deleted", "space.updated"] + ["space.created"] * 3
    assert [e["timestamp"] for e in seen] == sorted((e["timestamp"] for e in seen), reverse=True)
    assert set(seen[0]) == {"id", "type", "tenant_id", "space_id", "timestamp", "data"}


def test_filters_by_type_family_and_space(history):
    client, spaces = history
    exact = client.get("/api/v1/events", {"type": "space.updated"}).json()["items"]
    assert [e["space_id"] for e in exact] == [spaces[0]["id"]]
    family = client.get("/api/v1/events", {"type": "space.*"}).json()["items"]
    assert len(family) == 5
    assert client.get("/api/v1/events", {"type": "document.*"}).json()["items"] == []
    one_space = client.get("/api/v1/events", {"space_id": spaces[1]["id"]}).json()["items"]
    assert [e["type"] for e in one_space] == ["space.deleted", "space.created"]


@pytest.mark.parametrize("bad", [{"type": "space.exploded"}, {"type": "nothing.*"}, {"space_id": "not-a-uuid"}])
def test_unknown_types_and_bad_ids_are_400(history, bad):
    client, _ = history
    response = client.get("/api/v1/events", bad)
    assert response.status_code == 400
    assert next(iter(bad)) in response.json()["error"]["details"]


def test_a_tenant_sees_only_its_own_events(history):
    _, spaces = history
    stranger = client_for(api_key_make(tenant_make()))
    assert stranger.get("/api/v1/events").json()["items"] == []
    assert stranger.get("/api/v1/events", {"space_id": spaces[0]["id"]}).json()["items"] == []


def test_one_query_per_page(history):
    client, _ = history
    client.get("/api/v1/events")
    with count_store_calls() as calls:
        client.get("/api/v1/events", {"type": "space.*", "limit": 3})
    assert dict(calls.by_operation) == {"read": 2, "query": 1}


def test_each_family_takes_the_scope_that_reads_what_it_describes():
    """spaces:read lists events, but only those of the families the key's scopes read:
    document.* takes documents:read, query.* queries:execute, webhook.* webhooks:manage (a
    webhook.disabled event carries the endpoint's URL)."""
    from evaapi.auth import scopes

    tenant = tenant_make()
    admin = client_for(api_key_make(tenant))
    space = admin.post("/api/v1/spaces", {"name": "scoped"}, format="json").json()
    admin.post(f"/api/v1/spaces/{space['id']}/documents", {"file": _text_file()}, format="multipart")
    webhook = admin.post("/api/v1/webhooks", {"url": "https://hooks.example.com/eva", "event_types": ["*"]},
                         format="json").json()
    admin.post(f"/api/v1/webhooks/{webhook['id']}/test")
    every = {e["type"] for e in admin.get("/api/v1/events", {"limit": 100}).json()["items"]}
    assert {"space.created", "document.added", "webhook.test"} <= every

    reader = client_for(api_key_make(tenant, scopes=[scopes.SPACES_READ]))
    assert {e["type"] for e in reader.get("/api/v1/events", {"limit": 100}).json()["items"]} == {"space.created"}
    assert {e["type"] for e in reader.get("/api/v1/events", {"type": "*"}).json()["items"]} == {"space.created"}
    for family in ("document.*", "document.added", "webhook.*", "webhook.disabled", "query.*"):
        refused = reader.get("/api/v1/events", {"type": family})
        assert refused.status_code == 403, family
        assert refused.json()["error"]["code"] == "forbidden"

    documents = client_for(api_key_make(tenant, scopes=[scopes.SPACES_READ, scopes.DOCUMENTS_READ]))
    seen = {e["type"] for e in documents.get("/api/v1/events", {"limit": 100}).json()["items"]}
    assert seen == {"space.created", "document.added"}
    assert [e["type"] for e in documents.get("/api/v1/events", {"type": "document.*"}).json()["items"]] == [
        "document.added"]
    assert documents.get("/api/v1/events", {"type": "webhook.*"}).status_code == 403


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("notes.txt", b"some words to read", content_type="text/plain")
