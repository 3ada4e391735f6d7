from datetime import UTC, datetime, timedelta

import pytest

from evaapi.auth import repositories
from evaapi.redis import redis_client
from evaapi.store.metrics import count_store_calls
from evaapi.times import iso
from tests.factories import api_key_make, client_for

pytestmark = pytest.mark.django_db


def test_a_key_is_shown_once_and_stored_only_as_a_hash(admin_client, tenant):
    response = admin_client.post("/api/v1/auth/api-keys", {"name": "ci", "scopes": ["spaces:read"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith("eva_")
    assert len(secret) == 47
    assert body["prefix"] == secret[:16]
    assert body["scopes"] == ["spaces:read"]
    stored = repositories.api_key_read(tenant_id=tenant.id, key_id=body["id"])
    assert secret not in str(stored)
    assert stored.key_hash != secret
    listed = admin_client.get("/api/v1/auth/api-keys").json()["items"]
    assert body["id"] in [k["id"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    fetched = admin_client.get(f"/api/v1/auth/api-keys/{body['id']}").json()
    assert fetched["name"] == "ci"
    assert "key" not in fetched


def test_both_headers_authenticate(tenant):
    secret = api_key_make(tenant, scopes=["audit:read"])
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200
    assert client_for(secret, header="x-api-key").get("/api/v1/audit-logs").status_code == 200


def test_a_revoked_key_is_401(admin_client, tenant):
    secret = api_key_make(tenant, scopes=["audit:read"])
    assert admin_client.delete(f"/api/v1/auth/api-keys/{secret[4:16]}").status_code == 204
    response = client_for(secret).get("/api/v1/audit-logs")
    assert response.status_code == 401
    assert admin_client.get(f"/api/v1/auth/api-keys/{secret[4:16]}").json()["revoked_at"] is not None


def test_an_expired_key_is_401(tenant):
    secret = api_key_make(tenant, scopes=["audit:read"], expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200
    stored = repositories.api_key_read(tenant_id=tenant.id, key_id=secret[4:16])
    repositories.api_key_update(key=stored, expires_at=iso(datetime.now(UTC) - timedelta(seconds=1)))
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["nope"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"scopes": ["spaces:read"]}, "name"),
        ({"name": "x", "scopes": ["spaces:read"], "expires_at": "yesterday"}, "expires_at"),
        ({"name": "x", "scopes": ["spaces:read"], "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ],
)
def test_invalid_key_requests_are_400_naming_the_field(admin_client, body, field):
    response = admin_client.post("/api/v1/auth/api-keys", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_a_key_expiring_in_the_past_is_refused(admin_client):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = admin_client.post("/api/v1/auth/api-keys", {"name": "x", "scopes": ["spaces:read"],
                                                           "expires_at": past}, format="json")
    assert response.status_code == 400


def test_last_used_at_is_written_at_most_once_a_minute(tenant):
    secret = api_key_make(tenant, scopes=["admin"])
    redis_client().delete(f"apikey:used:{secret[4:16]}")
    client = client_for(secret)
    path = f"/api/v1/auth/api-keys/{secret[4:16]}"
    with count_store_calls() as first:
        body = client.get(path).json()
    with count_store_calls() as second:
        client.get(path)
    # Auth: read key + read tenant (+ one write of last_used_at the first time); view: read key.
    assert dict(first.by_operation) == {"read": 3, "patch": 1}
    assert dict(second.by_operation) == {"read": 3}
    assert body["last_used_at"] is not None  # written during authentication, before the view read it
