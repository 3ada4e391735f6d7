"""Username and password logins (the API's local login and the Django admin), with one lockout
and one audit trail for both.

Failures are counted in Redis per (username, client IP), refused after LOGIN_MAX_FAILURES, and
per username from every address, refused after the higher LOGIN_MAX_FAILURES_PER_USERNAME. So a
stranger who knows a username cannot lock its owner out from another address (that needs the
per-username ceiling, which a guessing campaign reaches long before it finds a good password),
and a distributed guess still ends at the ceiling. Each window starts at its first failure."""

import logging

import redis
from django.conf import settings
from django.contrib.auth import authenticate

from evaapi.auth.domain import TenantStatus
from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import membership_of_user, tenant_get
from evaapi.auth.services.audit import SYSTEM_TENANT_ID, audit_record
from evaapi.auth.tokens import local_token_encode
from evaapi.exceptions import Forbidden, NotAuthenticated, RateLimited, ResourceNotFound
from evaapi.http.context import current_client_ip
from evaapi.redis import redis_client

logger = logging.getLogger(__name__)

_PREFIX = "login:fail:"


def _username_key(username: str) -> str:
    return f"{_PREFIX}user:{username.lower()}"


def _failure_counters(username: str, client_ip: str | None) -> list[tuple[str, int]]:
    """(Redis key, limit) of each counter a failure of this login attempt adds to. Without a
    known client address there is no per-address counter: one shared bucket for every such
    client would let any of them lock the others out."""
    counters = [(_username_key(username), settings.LOGIN_MAX_FAILURES_PER_USERNAME)]
    if client_ip is not None:
        counters.append((f"{_PREFIX}pair:{username.lower()}:{client_ip}", settings.LOGIN_MAX_FAILURES))
    return counters


def _login_check_not_blocked(counters: list[tuple[str, int]]) -> None:
    try:
        pipe = redis_client().pipeline(transaction=False)
        for key, _ in counters:
            pipe.get(key)
            pipe.ttl(key)
        values = pipe.execute()
    except redis.RedisError:
        logger.warning("login failure counters unavailable")
        return
    for (_, limit), count, ttl in zip(counters, values[::2], values[1::2], strict=True):
        if count is not None and int(count) >= limit:
            raise RateLimited("Too many failed logins; try again later.", retry_after=max(int(ttl), 1))


def _login_count_failure(counters: list[tuple[str, int]]) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    try:
        # MULTI/EXEC: the counter exists with its expiry before it is incremented, whatever
        # happens between the two (SET ... NX keeps a running window; INCR keeps the TTL).
        pipe = redis_client().pipeline(transaction=True)
        for key, _ in counters:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        pipe.execute()
    except redis.RedisError:
        logger.warning("login failure counters unavailable")


def login_failures_clear(*, username: str) -> int:
    """Ends a lockout of `username` from every address; returns how many counters it removed."""
    client = redis_client()
    keys = [_username_key(username), *client.scan_iter(f"{_PREFIX}pair:{username.lower()}:*")]
    return client.delete(*keys)


def _tenant_id_of_username(username: str) -> str:
    tenant_id = (
        TenantMembership.objects.filter(user__username=username).values_list("tenant_id", flat=True).first()
    )
    return tenant_id or SYSTEM_TENANT_ID


def login_user_verify(*, username: str, password: str, channel: str):
    """The Django user these credentials belong to; RateLimited while locked out (checked
    before the password), NotAuthenticated otherwise. Every attempt is audited as
    `<channel>.login` ("auth" for the API, "admin" for the admin site)."""
    client_ip = current_client_ip()
    counters = _failure_counters(username, client_ip)
    _login_check_not_blocked(counters)
    user = authenticate(username=username, password=password)
    if user is None:
        _login_count_failure(counters)
        audit_record(tenant_id=_tenant_id_of_username(username), actor=f"username:{username[:150]}",
                     action=f"{channel}.login", resource_type="user", outcome="failure")
        raise NotAuthenticated("Wrong username or password.")
    if client_ip is not None:
        try:
            # A success ends this address's failures for the username; the per-username
            # ceiling runs out on its own, so a login cannot reset a guessing campaign.
            redis_client().delete(counters[1][0])
        except redis.RedisError:
            logger.warning("login failure counters unavailable")
    membership = membership_of_user(user_id=user.pk)
    audit_record(tenant_id=membership.tenant_id if membership else SYSTEM_TENANT_ID, actor=f"user:{user.pk}",
                 action=f"{channel}.login", resource_type="user", resource_id=str(user.pk))
    return user


def login_token_issue(*, username: str, password: str) -> tuple[str, int]:
    """A short-lived access token for a Django user of a tenant: (token, lifetime in seconds)."""
    if not settings.LOCAL_LOGIN_ENABLED:
        raise ResourceNotFound("Local login is not enabled on this server.")
    user = login_user_verify(username=username, password=password, channel="auth")
    membership = membership_of_user(user_id=user.pk)
    if membership is None:
        raise Forbidden("This user belongs to no tenant.")
    try:
        tenant = tenant_get(tenant_id=membership.tenant_id)
    except ResourceNotFound:
        raise Forbidden("This user's tenant does not exist.") from None
    if tenant.status != TenantStatus.ACTIVE:
        raise Forbidden("This tenant is suspended.")
    lifetime = settings.JWT_ACCESS_TOKEN_MINUTES * 60
    token = local_token_encode(user_id=user.pk, tenant_id=tenant.id, scopes=membership.scopes,
                               password_hash=user.password, lifetime=lifetime)
    return token, lifetime
