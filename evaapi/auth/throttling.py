from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from evaapi.auth.domain import Principal
from evaapi.auth.ratelimit import RateLimiterUnavailable, rate_limit_for_tier, rate_limit_hit


class RateLimiterDown(APIException):
    status_code = 503
    default_code = "service_unavailable"
    default_detail = "Rate limiting is unavailable; try again shortly."


def principal_rate_limit(principal: Principal):
    """The binding result of the tenant's bucket and, when the key sets a lower limit, the key's.
    Stored on the request for the X-RateLimit-* headers."""
    tier_limit = rate_limit_for_tier(principal.tenant.tier)
    results = []
    own = principal.rate_limit
    if own is not None and (tier_limit is None or own.per_minute < tier_limit.per_minute):
        results.append(rate_limit_hit(key=f"actor:{principal.actor}", limit=own))
    if tier_limit is not None and (not results or results[0].allowed):
        results.append(rate_limit_hit(key=f"tenant:{principal.tenant.id}", limit=tier_limit))
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
