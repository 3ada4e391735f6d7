import pytest

from tests.factories import api_key_make, client_for, tenant_make

pytestmark = pytest.mark.django_db


def test_key_creation_and_revocation_are_audited_and_listed_newest_first():
    tenant = tenant_make()
    admin = client_for(api_key_make(tenant))
    created = admin.post("/api/v1/auth/api-keys", {"name": "a", "scopes": ["spaces:read"]}, format="json").json()
    revoke = admin.delete(f"/api/v1/auth/api-keys/{created['id']}", HTTP_X_REQUEST_ID="revoke-request-1")
    assert revoke.status_code == 204
    entries = admin.get("/api/v1/audit-logs", {"resource_id": created["id"]}).json()["items"]
    assert [e["action"] for e in entries] == ["api_key.revoke", "api_key.create"]
    assert entries[0]["request_id"] == "revoke-request-1"
    assert entries[0]["actor"].startswith("api_key:")
    assert entries[0]["client_ip"] == "127.0.0.1"
    assert entries[0]["created_at"].endswith("Z")


def test_audit_log_pages_and_filters():
    tenant = tenant_make()
    admin = client_for(api_key_make(tenant))
    for n in range(5):
        admin.post("/api/v1/auth/api-keys", {"name": f"k{n}", "scopes": ["spaces:read"]}, format="json")
    seen, continuation = [], None
    while True:
        params = {"action": "api_key.create", "limit": 2}
        if continuation:
            params["continuation"] = continuation
        body = admin.get("/api/v1/audit-logs", params).json()
        seen += body["items"]
        continuation = body["continuation"]
        if not continuation:
            break
    # The admin key itself was created by the test factory: 6 creations in all.
    assert len(seen) == 6
    assert len({e["id"] for e in seen}) == 6
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen), reverse=True)


def test_a_tenant_sees_only_its_own_audit_entries():
    mine, theirs = tenant_make(), tenant_make()
    their_keys = {api_key_make(theirs)[4:16] for _ in range(2)}
    my_key = api_key_make(mine, scopes=["audit:read"])
    entries = client_for(my_key).get("/api/v1/audit-logs").json()["items"]
    # Mine: the tenant's creation and my key's; nothing of theirs, by id or by tenant.
    assert sorted((e["action"], e["resource_id"]) for e in entries) == sorted(
        [("tenant.create", mine.id), ("api_key.create", my_key[4:16])]
    )
    assert not their_keys & {e["resource_id"] for e in entries}
    their_entries = client_for(api_key_make(theirs, scopes=["audit:read"])).get("/api/v1/audit-logs").json()["items"]
    assert their_keys <= {e["resource_id"] for e in their_entries}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"continuation": "garbage"}])
def test_bad_paging_is_400(params):
    client = client_for(api_key_make(tenant_make(), scopes=["audit:read"]))
    response = client.get("/api/v1/audit-logs", params)
    assert response.status_code == 400
