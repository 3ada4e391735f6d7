"""One Redis connection pool per process, for readiness checks and project code.

rq (django-rq) and the Channels layer build their own connections from REDIS_URL."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READINESS_TIMEOUT_SECONDS,
        socket_timeout=5,
        health_check_interval=30,
    )
