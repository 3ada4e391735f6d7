"""How many sockets each tenant holds open, across every server process: a Redis sorted set per
tenant of its sockets' ids, scored by when each stops counting unless refreshed (so a
process that dies without closing its sockets frees their places within a few ping intervals).
Each process refreshes all of its sockets together, once an interval, in one Redis round trip,
rather than one round trip (and one crossing to the sync pool) per socket per interval."""

import asyncio
import logging
import time
from collections import defaultdict
from weakref import WeakKeyDictionary

from django.conf import settings

from evaapi.concurrency import run_sync
from evaapi.redis import redis_client

logger = logging.getLogger("evaapi.subscriptions")
_live: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> {socket: tenant id}
_refreshers: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> its refreshing task


def _key(tenant_id: str) -> str:
    return f"evaapi:ws:tenant:{tenant_id}"


def _expiry() -> float:
    return time.time() + 3 * settings.GRAPHQL_WS_PING_INTERVAL_SECONDS


def connection_take(*, tenant_id: str, socket: str) -> bool:
    """Counts the socket; False (and not counted) when the tenant holds its limit already."""
    key, now = _key(tenant_id), time.time()
    pipe = redis_client().pipeline()
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zcard(key)
    _, held = pipe.execute()
    if held >= settings.GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT:
        return False
    connections_refresh({socket: tenant_id})
    return True


def connections_refresh(sockets: dict[str, str]) -> None:
    """Pushes back the expiry of these sockets ({socket: tenant id}), in one round trip."""
    by_tenant = defaultdict(dict)
    expiry = _expiry()
    for socket, tenant_id in sockets.items():
        by_tenant[tenant_id][socket] = expiry
    pipe = redis_client().pipeline(transaction=False)
    for tenant_id, members in by_tenant.items():
        pipe.zadd(_key(tenant_id), members)
        pipe.expire(_key(tenant_id), int(3 * settings.GRAPHQL_WS_PING_INTERVAL_SECONDS) + 1)
    pipe.execute()


def connection_release(*, tenant_id: str, socket: str) -> None:
    redis_client().zrem(_key(tenant_id), socket)


def connection_track(*, tenant_id: str, socket: str) -> None:
    """Keeps the socket counted while it lives (this process's refresher task)."""
    loop = asyncio.get_running_loop()
    _live.setdefault(loop, {})[socket] = tenant_id
    if loop not in _refreshers or _refreshers[loop].done():
        _refreshers[loop] = loop.create_task(_refresh_forever(loop))


def connection_untrack(*, socket: str) -> None:
    _live.get(asyncio.get_running_loop(), {}).pop(socket, None)


async def _refresh_forever(loop) -> None:
    while _live.get(loop):
        await asyncio.sleep(settings.GRAPHQL_WS_PING_INTERVAL_SECONDS)
        sockets = dict(_live.get(loop, {}))
        if sockets:
            try:
                await run_sync(connections_refresh, sockets)
            except Exception:
                logger.warning("refreshing the sockets' count in Redis failed; will try again", exc_info=True)
