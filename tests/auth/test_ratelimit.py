import logging
import threading
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from evaapi.auth.domain import RateLimit
from evaapi.auth.ratelimit import (
    RateLimiterUnavailable,
    rate_limit_for_tier,
    rate_limit_hit,
)
from evaapi.redis import redis_client

DEFAULT_TIERS = "free=60/10,basic=600/50,pro=6000/200,enterprise=unlimited"


@pytest.fixture
def key():
    return f"test:{uuid.uuid4().hex}"


def test_fresh_bucket_allows_exactly_burst(key):
    # T = 10 s: nothing refills while the test runs.
    limit = RateLimit(per_minute=6, burst=3)
    results = [rate_limit_hit(key=key, limit=limit) for _ in range(4)]

    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert [r.reset_seconds for r in results] == [10, 20, 30, 30]
    assert [r.retry_after for r in results] == [None, None, None, 10]
    assert {r.limit for r in results} == {6}


def test_refused_requests_do_not_consume(key):
    limit = RateLimit(per_minute=6, burst=1)
    assert rate_limit_hit(key=key, limit=limit).allowed
    for _ in range(5):
        refused = rate_limit_hit(key=key, limit=limit)
        assert not refused.allowed
        # Still one interval away: the refusals did not push the TAT forward.
        assert refused.retry_after == 10
        assert refused.reset_seconds == 10


def test_retry_after_rounds_up(key):
    # T = 60/7 s = 8.57 s.
    limit = RateLimit(per_minute=7, burst=1)
    assert rate_limit_hit(key=key, limit=limit).allowed
    assert rate_limit_hit(key=key, limit=limit).retry_after == 9


def test_bucket_refills(key):
    # T = 10 ms; the one short sleep is the point of the test.
    limit = RateLimit(per_minute=6000, burst=1)
    assert rate_limit_hit(key=key, limit=limit).allowed
    refused = rate_limit_hit(key=key, limit=limit)
    assert not refused.allowed
    assert refused.retry_after == 1
    time.sleep(0.05)
    assert rate_limit_hit(key=key, limit=limit).allowed


def test_keys_are_independent(key):
    limit = RateLimit(per_minute=6, burst=1)
    other = f"{key}:other"
    assert rate_limit_hit(key=key, limit=limit).allowed
    assert not rate_limit_hit(key=key, limit=limit).allowed
    assert rate_limit_hit(key=other, limit=limit).allowed
    assert not rate_limit_hit(key=other, limit=limit).allowed


def test_key_expires_once_idle(key):
    limit = RateLimit(per_minute=6, burst=3)
    rate_limit_hit(key=key, limit=limit)
    ttl_ms = redis_client().pttl(f"ratelimit:{key}")
    # tau + T = 40 s.
    assert 0 < ttl_ms <= 40_000


def test_concurrent_hits_allow_exactly_burst(key):
    limit = RateLimit(per_minute=1, burst=20)
    start = threading.Barrier(4)
    allowed = []
    lock = threading.Lock()

    def worker():
        start.wait()
        for _ in range(10):
            result = rate_limit_hit(key=key, limit=limit)
            with lock:
                allowed.append(result.allowed)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 40
    assert allowed.count(True) == 20


@override_settings(RATE_LIMIT_TIERS=DEFAULT_TIERS)
def test_tiers_default():
    assert rate_limit_for_tier("free") == RateLimit(per_minute=60, burst=10)
    assert rate_limit_for_tier("basic") == RateLimit(per_minute=600, burst=50)
    assert rate_limit_for_tier("pro") == RateLimit(per_minute=6000, burst=200)
    assert rate_limit_for_tier("enterprise") is None


@override_settings(RATE_LIMIT_TIERS=DEFAULT_TIERS)
def test_unknown_tier_gets_free():
    assert rate_limit_for_tier("platinum") == RateLimit(per_minute=60, burst=10)
    assert rate_limit_for_tier("") == RateLimit(per_minute=60, burst=10)


def test_tiers_follow_settings():
    with override_settings(RATE_LIMIT_TIERS=" free = 5/2 , pro=unlimited "):
        assert rate_limit_for_tier("free") == RateLimit(per_minute=5, burst=2)
        assert rate_limit_for_tier("pro") is None
    with override_settings(RATE_LIMIT_TIERS="free=unlimited"):
        assert rate_limit_for_tier("anything") is None


@pytest.mark.parametrize(
    "tiers",
    ["free=60", "free=60/", "free=abc/10", "free=60/10/5", "free", "=60/10", "free=0/10", "free=60/0", "basic=60/10"],
)
def test_bad_tiers_are_a_configuration_error(tiers):
    with override_settings(RATE_LIMIT_TIERS=tiers), pytest.raises(ImproperlyConfigured):
        rate_limit_for_tier("free")


@pytest.fixture
def unreachable_redis():
    # Port 1 on loopback refuses connections at once.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        redis_client.cache_clear()
        yield
    redis_client.cache_clear()


def test_redis_down_fails_open(key, unreachable_redis, caplog):
    limit = RateLimit(per_minute=6, burst=3)
    with override_settings(RATE_LIMIT_ON_REDIS_ERROR="open"), caplog.at_level(logging.WARNING, "evaapi.ratelimit"):
        result = rate_limit_hit(key=key, limit=limit)

    assert result.allowed
    assert result.remaining == 3
    assert result.limit == 6
    assert result.retry_after is None
    warnings = [r for r in caplog.records if r.name == "evaapi.ratelimit"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "open" in warnings[0].getMessage()


def test_redis_down_fails_closed(key, unreachable_redis, caplog):
    limit = RateLimit(per_minute=6, burst=3)
    with (
        override_settings(RATE_LIMIT_ON_REDIS_ERROR="closed"),
        caplog.at_level(logging.WARNING, "evaapi.ratelimit"),
        pytest.raises(RateLimiterUnavailable),
    ):
        rate_limit_hit(key=key, limit=limit)
    assert [r.levelno for r in caplog.records if r.name == "evaapi.ratelimit"] == [logging.WARNING]
