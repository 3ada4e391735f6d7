"""How many sockets each tenant holds open, across every server process: a Redis sorted set per
tenant of the sockets' channel names, scored by when each stops counting unless refreshed (so a
process that dies without closing its sockets frees their places within a few pings)."""

import time

from django.conf import settings

from evaapi.redis import redis_client


def _key(tenant_id: str) -> str:
    return f"evaapi:ws:tenant:{tenant_id}"


def _expiry() -> float:
    return time.time() + 3 * settings.GRAPHQL_WS_PING_INTERVAL_SECONDS


def connection_take(*, tenant_id: str, channel: str) -> bool:
    """Counts the socket; False (and not counted) when the tenant holds its limit already."""
    key, now = _key(tenant_id), time.time()
    pipe = redis_client().pipeline()
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zcard(key)
    _, held = pipe.execute()
    if held >= settings.GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT:
        return False
    connection_refresh(tenant_id=tenant_id, channel=channel)
    return True


def connection_refresh(*, tenant_id: str, channel: str) -> None:
    pipe = redis_client().pipeline()
    pipe.zadd(_key(tenant_id), {channel: _expiry()})
    pipe.expire(_key(tenant_id), int(3 * settings.GRAPHQL_WS_PING_INTERVAL_SECONDS) + 1)
    pipe.execute()


def connection_release(*, tenant_id: str, channel: str) -> None:
    redis_client().zrem(_key(tenant_id), channel)
