from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from evaapi.auth.domain import Principal
from evaapi.auth.ratelimit import RateLimiterUnavailable, rate_limit_for_tier, rate_limit_hit


class RateLimiterDown(APIException):
    status_code = 503
    default_code = "service_unavailable"
    default_detail = "Rate limiting is unavailable; try again shortly."


class CostOverBurst(Exception):
    """A request counts as more requests than the caller's bucket holds even when full: it could
    never pass, so it is refused without waiting (and without being counted)."""

    def __init__(self, cost: int, burst: int):
        super().__init__(f"a cost of {cost} is over the burst of {burst}")
        self.cost = cost
        self.burst = burst


def principal_rate_limit(principal: Principal, *, cost: int = 1):
    """The binding result of the tenant's bucket and, when the key sets a lower limit, the key's.
    Stored on the request for the X-RateLimit-* headers. `cost`: how many requests this one
    counts as (a GraphQL operation of several mutations), taken from each bucket together or
    not at all; CostOverBurst when a bucket could never hold that many."""
    tier_limit = rate_limit_for_tier(principal.tenant.tier)
    buckets = []
    own = principal.rate_limit
    if own is not None and (tier_limit is None or own.per_minute < tier_limit.per_minute):
        buckets.append((f"actor:{principal.actor}", own))
    if tier_limit is not None:
        buckets.append((f"tenant:{principal.tenant.id}", tier_limit))
    smallest = min((limit.burst for _, limit in buckets), default=cost)
    if cost > smallest:
        raise CostOverBurst(cost, smallest)
    results = []
    for key, limit in buckets:
        results.append(rate_limit_hit(key=key, limit=limit, cost=cost))
        if not results[-1].allowed:
            break  # the key's own bucket refused: the tenant's is left as it was
    if not results:
        return None
    refused = [r for r in results if not r.allowed]
    return refused[0] if refused else min(results, key=lambda r: r.remaining)


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        principal = request.user
        if not isinstance(principal, Principal):
            return True
        try:
            result = principal_rate_limit(principal)
        except RateLimiterUnavailable:
            raise RateLimiterDown() from None
        request._request.rate_limit = result
        self.retry_after = result.retry_after if result else None
        return result is None or result.allowed

    def wait(self):
        return self.retry_after
