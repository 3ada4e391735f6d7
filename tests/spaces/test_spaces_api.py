"""Spaces over REST: create, list (paged, sorted, by tag), read with ETag, PATCH and DELETE with
If-Match, names unique per tenant ignoring case, validation, and exact store-call counts."""

import uuid

import pytest

from evaapi.store.metrics import count_store_calls
from tests.factories import api_key_make, client_for, tenant_make

pytestmark = pytest.mark.django_db
SPACES = "/api/v1/spaces"


def _create(client, name=None, **fields):
    response = client.post(SPACES, {"name": name or f"space {uuid.uuid4().hex[:6]}", **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response


def test_create_read_update_delete(deployment, admin_client):
    created = _create(admin_client, "Research", description="Papers", tags=["ml", "nlp"], metadata={"team": "a"})
    body = created.json()
    assert created["Location"] == f"{SPACES}/{body['id']}"
    uuid.UUID(body["id"])
    assert (body["name"], body["tags"], body["metadata"], body["document_count"]) == (
        "Research", ["ml", "nlp"], {"team": "a"}, 0)
    assert body["created_at"].endswith("Z")
    read = admin_client.get(f"{SPACES}/{body['id']}")
    assert read.status_code == 200
    assert read["ETag"] == created["ETag"]
    patched = admin_client.patch(f"{SPACES}/{body['id']}", {"description": "Papers and notes"}, format="json",
                                 HTTP_IF_MATCH=read["ETag"])
    assert patched.status_code == 200, patched.json()
    assert patched.json()["description"] == "Papers and notes"
    assert patched["ETag"] != read["ETag"]
    assert patched.json()["updated_at"] > body["updated_at"]
    assert admin_client.delete(f"{SPACES}/{body['id']}", HTTP_IF_MATCH=patched["ETag"]).status_code == 204
    assert admin_client.get(f"{SPACES}/{body['id']}").status_code == 404
    assert admin_client.patch(f"{SPACES}/{body['id']}", {"name": "x"}, format="json").status_code == 404


def test_a_stale_if_match_is_412_and_changes_nothing(deployment, admin_client):
    space = _create(admin_client)
    first = space["ETag"]
    admin_client.patch(f"{SPACES}/{space.json()['id']}", {"description": "newer"}, format="json")
    stale = admin_client.patch(f"{SPACES}/{space.json()['id']}", {"description": "lost"}, format="json",
                               HTTP_IF_MATCH=first)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert admin_client.delete(f"{SPACES}/{space.json()['id']}", HTTP_IF_MATCH=first).status_code == 412
    assert admin_client.get(f"{SPACES}/{space.json()['id']}").json()["description"] == "newer"


def test_names_are_unique_per_tenant_ignoring_case(deployment, admin_client):
    _create(admin_client, "Legal")
    taken = admin_client.post(SPACES, {"name": "LEGAL"}, format="json")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "conflict"
    other = _create(admin_client, "Other").json()
    assert admin_client.patch(f"{SPACES}/{other['id']}", {"name": "legal"}, format="json").status_code == 409
    # Another tenant may use the name; a deleted space gives it up at once.
    _create(client_for(api_key_make(tenant_make())), "Legal")
    legal = next(s for s in admin_client.get(SPACES).json()["items"] if s["name"] == "Legal")
    assert admin_client.delete(f"{SPACES}/{legal['id']}").status_code == 204
    _create(admin_client, "legal")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "description": "d" * 1001}, "description"),
        ({"name": "ok", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"name": "ok", "tags": ["x" * 51]}, "tags"),
        ({"name": "ok", "metadata": ["not", "an", "object"]}, "metadata"),
        ({"name": "ok", "metadata": {"blob": "x" * 17000}}, "metadata"),
        ({}, "name"),
    ],
)
def test_invalid_spaces_are_400_naming_the_field(admin_client, body, field):
    response = admin_client.post(SPACES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_empty_patch_is_400(admin_client):
    space = _create(admin_client).json()
    assert admin_client.patch(f"{SPACES}/{space['id']}", {}, format="json").status_code == 400


def test_list_pages_sorts_and_filters_by_tag(deployment):
    client = client_for(api_key_make(tenant_make()))
    names = ["delta", "Alpha", "charlie", "bravo", "echo"]
    for n, name in enumerate(names):
        _create(client, name, tags=["even"] if n % 2 == 0 else ["odd"])
    by_name = _walk(client, {"sort": "name", "limit": 2})
    assert [s["name"] for s in by_name] == ["Alpha", "bravo", "charlie", "delta", "echo"]
    newest = _walk(client, {"limit": 2})
    assert [s["name"] for s in newest] == list(reversed(names))
    assert [s["name"] for s in _walk(client, {"sort": "-name", "limit": 3})] == list(reversed(
        ["Alpha", "bravo", "charlie", "delta", "echo"]))
    assert sorted(s["name"] for s in _walk(client, {"tag": "even"})) == ["charlie", "delta", "echo"]


def _walk(client, params):
    seen, continuation = [], None
    while True:
        body = client.get(SPACES, {**params, **({"continuation": continuation} if continuation else {})}).json()
        seen += body["items"]
        continuation = body["continuation"]
        if not continuation:
            return seen


def test_list_and_read_cost_exact_store_calls(deployment):
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    space = _create(client).json()
    for _ in range(3):
        _create(client)
    client.get(SPACES)  # the key's last_used_at is written at most once a minute: not in the counts
    with count_store_calls() as listed:
        assert len(client.get(SPACES, {"limit": 10}).json()["items"]) == 4
    with count_store_calls() as read:
        client.get(f"{SPACES}/{space['id']}")
    # Authentication reads the key and the tenant; then one query, or one point read.
    assert dict(listed.by_operation) == {"read": 2, "query": 1}
    assert dict(read.by_operation) == {"read": 3}


def test_every_write_raises_its_event(deployment, admin_client, recorded_events):
    space = _create(admin_client, "Evented").json()
    admin_client.patch(f"{SPACES}/{space['id']}", {"name": "Renamed", "tags": ["x"]}, format="json")
    admin_client.delete(f"{SPACES}/{space['id']}")
    events = admin_client.get("/api/v1/events", {"space_id": space["id"]}).json()["items"]
    assert [(e["type"], e["data"]) for e in reversed(events)] == [
        ("space.created", {"space_id": space["id"], "name": "Evented"}),
        ("space.updated", {"space_id": space["id"], "name": "Renamed", "changed": ["name", "tags"]}),
        ("space.deleted", {"space_id": space["id"], "name": "Renamed"}),
    ]
    assert [e.id for e in recorded_events] == [e["id"] for e in reversed(events)]
