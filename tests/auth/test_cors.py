import pytest
from django.test import override_settings

from tests.factories import api_key_make, client_for, tenant_make

pytestmark = [pytest.mark.django_db, pytest.mark.urls("evaapi.urls")]

ORIGIN = "https://app.example.com"


@pytest.fixture(autouse=True)
def _cors():
    with override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN], RATE_LIMIT_TIERS="free=6/2,enterprise=unlimited"):
        yield


def test_preflight_is_answered_and_not_counted():
    secret = api_key_make(tenant_make(tier="free"), scopes=["audit:read"])
    client = client_for(secret)
    for _ in range(3):
        preflight = client.options("/api/v1/audit-logs", HTTP_ORIGIN=ORIGIN,
                                   HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
        assert preflight.status_code == 200
        assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    response = client.get("/api/v1/audit-logs", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "1"  # burst 2, one request counted


def test_error_and_429_responses_carry_cors_and_exposed_headers():
    unauthenticated = client_for().get("/api/v1/audit-logs", HTTP_ORIGIN=ORIGIN)
    assert unauthenticated.status_code == 401
    assert unauthenticated["Access-Control-Allow-Origin"] == ORIGIN
    client = client_for(api_key_make(tenant_make(tier="free"), scopes=["audit:read"]))
    responses = [client.get("/api/v1/audit-logs", HTTP_ORIGIN=ORIGIN) for _ in range(3)]
    assert responses[-1].status_code == 429
    assert responses[-1]["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip().lower() for h in responses[-1]["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "x-ratelimit-remaining", "retry-after"} <= exposed


def test_an_unknown_origin_gets_no_cors_headers():
    response = client_for().get("/health", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response
