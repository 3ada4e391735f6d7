import pytest
from django.test import override_settings

from evaapi import __version__
from evaapi.redis import redis_client
from evaapi.store.metrics import count_store_calls


@pytest.fixture
def unreachable_redis():
    # Port 1 on loopback refuses connections at once.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", READINESS_TIMEOUT_SECONDS=0.5):
        redis_client.cache_clear()
        yield
    redis_client.cache_clear()


def test_health_answers_without_io(client, unreachable_redis):
    # No django_db mark: a database query would raise; Redis points nowhere; the store is counted.
    with count_store_calls() as calls:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": __version__}
    assert calls.calls == 0


def test_ready_reports_each_check(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"redis", "store"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_ready_names_the_failing_check_and_logs_the_error(client, unreachable_redis, caplog):
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    assert "redis" in body["error"]["message"]
    assert body["error"]["details"]["checks"]["redis"] == {"status": "failed", "reason": "unavailable"}
    assert body["request_id"] == response["X-Request-ID"]
    assert "Connection refused" not in response.content.decode()  # the raw error is for the log
    assert any("Connection refused" in r.getMessage() and r.request_id == body["request_id"]
               for r in caplog.records if r.name == "evaapi.health")


@pytest.mark.django_db
def test_an_operator_sees_the_errors(tenant, unreachable_redis):
    from tests.factories import api_key_make, client_for

    checks = client_for(api_key_make(tenant, scopes=["admin"])).get("/health/ready").json()["error"]["details"]
    assert "Connection refused" in checks["checks"]["redis"]["error"]
    checks = client_for(api_key_make(tenant, scopes=["audit:read"])).get("/health/ready").json()["error"]["details"]
    assert "error" not in checks["checks"]["redis"]


@pytest.fixture
def silent_redis():
    """A TCP listener that accepts connections and never answers: a hung dependency."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0", READINESS_TIMEOUT_SECONDS=0.3):
        redis_client.cache_clear()
        yield
    redis_client.cache_clear()
    listener.close()


def test_ready_bounds_a_hung_check(client, silent_redis):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["redis"] == {"status": "failed", "reason": "timeout"}
