import pytest
from django.test import override_settings

from evaapi import __version__
from evaapi.redis import redis_client


@pytest.fixture
def unreachable_redis():
    # Port 1 on loopback refuses connections at once.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", READINESS_TIMEOUT_SECONDS=0.5):
        redis_client.cache_clear()
        yield
    redis_client.cache_clear()


def test_health_answers_without_io(client, unreachable_redis):
    # No django_db mark: a database query would raise; Redis points nowhere.
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": __version__}


def test_ready_reports_each_check(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"redis", "store"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_ready_names_the_failing_check(client, unreachable_redis):
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    assert "redis" in body["error"]["message"]
    assert body["error"]["details"]["checks"]["redis"]["status"] == "failed"
    assert body["request_id"] == response["X-Request-ID"]


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
    assert response.json()["error"]["details"]["checks"]["redis"]["error"] == "no answer within 0.3s"
