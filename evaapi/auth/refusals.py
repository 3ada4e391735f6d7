"""The per-client-IP limit on requests without valid credentials and requests refused.

Tenant limits count only callers who authenticated; this one counts everyone else, so key
guessing, token spraying and login floods end in 429. Each 401 or 403 takes one request from the
client IP's GCRA bucket in Redis (RATE_LIMIT_UNAUTHENTICATED), shared by every process. Once the
bucket is empty, the process also remembers the IP until its Retry-After, and refuses its
requests before checking their credentials: a blocked client gets no more guesses checked, and
well-behaved requests pay nothing (no Redis call unless a request is refused)."""

import logging
import threading
import time
from contextlib import contextmanager

from evaapi.auth.ratelimit import RateLimiterUnavailable, rate_limit_hit, rate_limit_unauthenticated
from evaapi.exceptions import RateLimited, ServiceError

logger = logging.getLogger("evaapi.ratelimit")

# Memory bound of the process-local table: past it, the entries that expire soonest go first.
_MAX_BLOCKED = 10_000
_blocked: dict[str, float] = {}  # client IP -> time.monotonic() until which it is refused
_lock = threading.Lock()


def _refused(retry_after: int) -> RateLimited:
    return RateLimited("Too many requests without valid credentials; see Retry-After.", retry_after=retry_after)


def client_refusal_check(client_ip: str | None) -> None:
    """RateLimited if this process knows the client is over its limit; before authentication."""
    if client_ip is None:
        return
    until = _blocked.get(client_ip)
    if until is None:
        return
    remaining = until - time.monotonic()
    if remaining > 0:
        raise _refused(max(1, round(remaining)))
    with _lock:
        if _blocked.get(client_ip) == until:
            del _blocked[client_ip]


def client_refusal_count(client_ip: str | None) -> RateLimited | None:
    """Counts one refused or unauthenticated request; the 429 to answer instead, if over the
    limit. An unknown client address is not counted: one bucket for all such clients would let
    any of them shut the others out."""
    limit = rate_limit_unauthenticated()
    if limit is None or client_ip is None:
        return None
    try:
        result = rate_limit_hit(key=f"client:{client_ip}", limit=limit)
    except RateLimiterUnavailable:
        return None  # Redis is down; the 401/403 stands
    if result.allowed:
        return None
    with _lock:
        if len(_blocked) >= _MAX_BLOCKED:
            for ip, _ in sorted(_blocked.items(), key=lambda entry: entry[1])[: _MAX_BLOCKED // 10]:
                del _blocked[ip]
        _blocked[client_ip] = time.monotonic() + result.retry_after
    return _refused(result.retry_after)


@contextmanager
def client_refusal_guard(client_ip: str | None):
    """Around authenticating a caller outside DRF (GraphQL over HTTP and WebSocket), what REST's
    ApiView does: RateLimited at once for a client over its limit; a 401 or 403 raised inside is
    counted, and becomes the RateLimited it is over the limit by."""
    client_refusal_check(client_ip)
    try:
        yield
    except ServiceError as exc:
        if exc.status in (401, 403):
            refused = client_refusal_count(client_ip)
            if refused is not None:
                raise refused from None
        raise


def client_refusals_forget() -> None:
    """Forgets every process-local block (tests; the Redis buckets run out on their own)."""
    with _lock:
        _blocked.clear()
