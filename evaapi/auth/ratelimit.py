"""Per-key rate limits: GCRA (generic cell rate algorithm) in Redis, shared by every API process.

A bucket is one Redis key holding its TAT (theoretical arrival time). Each request moves the
TAT forward by the emission interval T = 60 / per_minute; a request is refused when that would
put the TAT more than tau = T * burst ahead of now. A fresh bucket therefore lets exactly
`burst` requests through at once, then refills at `per_minute`. A request may count as several
(`cost`: a GraphQL operation of several mutations): it moves the TAT by cost * T, all of it or,
refused, none.
"""

import logging
import math
from functools import lru_cache

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.commands.core import Script

from evaapi.auth.domain import RateLimit, RateLimitResult
from evaapi.redis import redis_client

logger = logging.getLogger("evaapi.ratelimit")

MICROSECONDS = 1_000_000


class RateLimiterUnavailable(Exception):
    """Redis cannot be reached and RATE_LIMIT_ON_REDIS_ERROR is "closed"."""


# All times are integer microseconds: Lua numbers are doubles, exact for integers up to 2^53
# (~285 years of microseconds since the epoch), so `now + k * T` never rounds and "exactly
# burst requests" holds. Time comes from the Redis server so API hosts' clocks don't matter;
# Redis >= 5 replicates a script's effects, so calling TIME before a write is allowed.
# KEYS[1]: bucket key. ARGV: T (us), tau (us), key expiry (ms), cost (requests).
# Returns {allowed (0/1), remaining, microseconds until full, microseconds until retry}.
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local expiry_ms = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
    tat = now
end

local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if now < allow_at then
    -- Refused: the TAT stays where it was, so a refused request costs nothing.
    local remaining = math.floor((now + tolerance - tat) / interval)
    if remaining < 0 then
        remaining = 0
    end
    return {0, remaining, tat - now, allow_at - now}
end

-- %d, not tostring(): tostring() prints 14 significant digits and would round the TAT.
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', expiry_ms)
return {1, math.floor((now + tolerance - new_tat) / interval), new_tat - now, 0}
"""


@lru_cache(maxsize=1)
def _gcra_script(client: redis.Redis) -> Script:
    # One Script per client (maxsize=1: a new client after cache_clear() replaces the old one).
    # Script calls run by EVALSHA and load the script again only after a NOSCRIPT reply.
    return client.register_script(_GCRA_LUA)


def _limit_parse(spec: str, *, setting: str) -> RateLimit | None:
    """`<per minute>/<burst>` or `unlimited` (None)."""
    spec = spec.strip()
    if spec == "unlimited":
        return None
    per_minute, sep, burst = spec.partition("/")
    try:
        limit = RateLimit(per_minute=int(per_minute), burst=int(burst))
    except ValueError:
        raise ImproperlyConfigured(f"{setting}: {spec!r} is not <per minute>/<burst> or unlimited") from None
    if not sep or limit.per_minute < 1 or limit.burst < 1:
        raise ImproperlyConfigured(f"{setting}: {spec!r} needs a per-minute rate and a burst of at least 1")
    return limit


@lru_cache(maxsize=8)
def tiers_parse(value: str) -> dict[str, RateLimit | None]:
    # Cached per settings value, so override_settings(RATE_LIMIT_TIERS=...) takes effect.
    tiers: dict[str, RateLimit | None] = {}
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        tier, sep, spec = (part.strip() for part in entry.partition("="))
        if not sep or not tier:
            raise ImproperlyConfigured(f"RATE_LIMIT_TIERS: {entry!r} is not <tier>=<per minute>/<burst>")
        tiers[tier] = _limit_parse(spec, setting=f"RATE_LIMIT_TIERS ({tier})")
    if "free" not in tiers:
        # Unknown tiers fall back to "free", so it must exist.
        raise ImproperlyConfigured("RATE_LIMIT_TIERS must define the free tier")
    return tiers


@lru_cache(maxsize=8)
def unauthenticated_limit_parse(value: str) -> RateLimit | None:
    return _limit_parse(value, setting="RATE_LIMIT_UNAUTHENTICATED")


def rate_limit_for_tier(tier: str) -> RateLimit | None:
    """The limit of a tenant tier from settings.RATE_LIMIT_TIERS; None means unlimited.

    An unknown tier gets the "free" limit: a typo in a tenant record must not lift its limit."""
    tiers = tiers_parse(settings.RATE_LIMIT_TIERS)
    return tiers[tier] if tier in tiers else tiers["free"]


def rate_limit_unauthenticated() -> RateLimit | None:
    """The per-client-IP limit on requests without valid credentials or refused; None: unlimited."""
    return unauthenticated_limit_parse(settings.RATE_LIMIT_UNAUTHENTICATED)


def rate_limit_hit(*, key: str, limit: RateLimit, cost: int = 1) -> RateLimitResult:
    """Count `cost` requests against `key`, together or not at all: one atomic script call,
    whichever process makes it. A cost above the burst is never allowed (the caller says so)."""
    # Integer microseconds; rounding T costs at most 1 us per minute of drift, which is nothing.
    interval = round(60 * MICROSECONDS / limit.per_minute)
    tolerance = interval * limit.burst
    # Once the TAT is in the past the bucket is full and the key carries no information; the
    # TAT is never more than tau ahead of now, so tau + T bounds how long a key can matter.
    expiry_ms = math.ceil((tolerance + interval) / 1000)
    try:
        client = redis_client()
        allowed, remaining, reset_us, retry_us = _gcra_script(client)(
            keys=[f"ratelimit:{key}"], args=[interval, tolerance, expiry_ms, cost], client=client
        )
    except (redis.exceptions.RedisError, ConnectionError, TimeoutError) as exc:
        return _rate_limit_without_redis(limit=limit, error=exc)
    return RateLimitResult(
        allowed=bool(allowed),
        limit=limit.per_minute,
        remaining=int(remaining),
        reset_seconds=math.ceil(reset_us / MICROSECONDS),
        retry_after=None if allowed else max(1, math.ceil(retry_us / MICROSECONDS)),
    )


def _rate_limit_without_redis(*, limit: RateLimit, error: Exception) -> RateLimitResult:
    mode = settings.RATE_LIMIT_ON_REDIS_ERROR
    # One line, no traceback: during an outage this fires on every request.
    logger.warning("rate limiter cannot reach Redis, failing %s: %s: %s", mode, type(error).__name__, error)
    if mode == "closed":
        raise RateLimiterUnavailable("rate limiter cannot reach Redis") from error
    return RateLimitResult(
        allowed=True, limit=limit.per_minute, remaining=limit.burst, reset_seconds=0, retry_after=None
    )
