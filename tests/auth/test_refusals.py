"""Requests without valid credentials, and refused ones, are limited per client IP: key guessing
and scope probing end in 429, and a blocked client gets no more guesses checked."""

import secrets
import uuid

import pytest
from django.test import override_settings

from evaapi.store.metrics import count_store_calls
from tests.factories import api_key_make, client_for

pytestmark = pytest.mark.django_db


def _address() -> str:
    return f"10.44.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


@override_settings(RATE_LIMIT_UNAUTHENTICATED="1/20")
def test_guessing_keys_ends_in_429():
    address = _address()
    codes = [
        client_for("eva_" + secrets.token_urlsafe(32)).get("/api/v1/audit-logs", REMOTE_ADDR=address).status_code
        for _ in range(60)
    ]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}


@override_settings(RATE_LIMIT_UNAUTHENTICATED="1/5")
def test_a_blocked_client_gets_no_more_guesses_checked(tenant):
    address = _address()
    for _ in range(6):
        client_for("eva_" + secrets.token_urlsafe(32)).get("/api/v1/audit-logs", REMOTE_ADDR=address)
    good = client_for(api_key_make(tenant))
    with count_store_calls() as calls:
        response = good.get("/api/v1/audit-logs", REMOTE_ADDR=address)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
    assert calls.calls == 0  # refused before the key was even looked up
    # Another address is not affected.
    assert good.get("/api/v1/audit-logs", REMOTE_ADDR=_address()).status_code == 200


@override_settings(RATE_LIMIT_UNAUTHENTICATED="1/3")
def test_refused_requests_count_too(tenant):
    address = _address()
    no_scope = client_for(api_key_make(tenant, scopes=["spaces:read"]))
    codes = [no_scope.get("/api/v1/audit-logs", REMOTE_ADDR=address).status_code for _ in range(5)]
    assert codes == [403, 403, 403, 429, 429]


@override_settings(RATE_LIMIT_UNAUTHENTICATED="1/3")
def test_requests_without_credentials_count(tenant):
    address = _address()
    codes = [client_for().get("/api/v1/auth/api-keys", REMOTE_ADDR=address).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


@override_settings(RATE_LIMIT_UNAUTHENTICATED="1/3")
def test_successful_requests_cost_nothing(tenant):
    address = _address()
    client = client_for(api_key_make(tenant))
    assert {client.get("/api/v1/audit-logs", REMOTE_ADDR=address).status_code for _ in range(10)} == {200}
