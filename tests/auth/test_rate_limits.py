"""Rate limits through the API: per tenant tier, per key when lower, headers, 429, Redis down."""

import pytest
from django.test import override_settings

from evaapi.redis import redis_client
from tests.factories import api_key_make, client_for, tenant_make

pytestmark = pytest.mark.django_db

# Ten seconds between tokens: no refill can happen while a test runs.
SLOW_TIERS = "free=6/4,basic=600/50,pro=6000/200,enterprise=unlimited"


@override_settings(RATE_LIMIT_TIERS=SLOW_TIERS)
def test_a_tier_lets_exactly_its_burst_through_then_429():
    client = client_for(api_key_make(tenant_make(tier="free"), scopes=["audit:read"]))
    responses = [client.get("/api/v1/audit-logs") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert [r["X-RateLimit-Remaining"] for r in responses[:4]] == ["3", "2", "1", "0"]
    assert all(r["X-RateLimit-Limit"] == "6" for r in responses)
    refused = responses[-1]
    assert 9 <= int(refused["Retry-After"]) <= 10
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"]["retry_after"] == int(refused["Retry-After"])


def test_a_key_with_a_lower_limit_is_held_to_it_and_others_are_not():
    tenant = tenant_make(tier="pro")
    limited = client_for(api_key_make(tenant, scopes=["audit:read"], rate_limit_per_minute=6, rate_limit_burst=2))
    other = client_for(api_key_make(tenant, scopes=["audit:read"]))
    assert [limited.get("/api/v1/audit-logs").status_code for _ in range(3)] == [200, 200, 429]
    response = other.get("/api/v1/audit-logs")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "6000"


def test_unlimited_tier_has_no_rate_limit_headers():
    client = client_for(api_key_make(tenant_make(tier="enterprise"), scopes=["audit:read"]))
    response = client.get("/api/v1/audit-logs")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response


@pytest.fixture
def redis_down():
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_TIERS=SLOW_TIERS):
        redis_client.cache_clear()
        yield
    redis_client.cache_clear()


def test_redis_down_fails_open_by_default_with_a_log_line(redis_down, caplog):
    client = client_for(api_key_make(tenant_make(tier="free"), scopes=["audit:read"]))
    with caplog.at_level("WARNING", logger="evaapi.ratelimit"):
        assert client.get("/api/v1/audit-logs").status_code == 200
    assert any(r.name == "evaapi.ratelimit" for r in caplog.records)


def test_redis_down_fails_closed_when_configured(redis_down):
    client = client_for(api_key_make(tenant_make(tier="free"), scopes=["audit:read"]))
    with override_settings(RATE_LIMIT_ON_REDIS_ERROR="closed"):
        response = client.get("/api/v1/audit-logs")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
