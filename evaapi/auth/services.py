"""Writes of the auth package: tenants, API keys, login, audit entries."""

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import uuid
from datetime import datetime, timedelta

import jwt
import redis
from django.conf import settings
from django.contrib.auth import authenticate

from evaapi.auth import repositories
from evaapi.auth.domain import ApiKey, AuditEntry, Principal, Tenant, TenantStatus, TenantTier, iso, utc_now
from evaapi.auth.models import TenantMembership
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.selectors import api_key_get
from evaapi.exceptions import Forbidden, InvalidInput, NotAuthenticated, RateLimited, ResourceNotFound
from evaapi.http.context import current_client_ip, current_request_id
from evaapi.redis import redis_client
from evaapi.store import Conflict, NotFound

logger = logging.getLogger(__name__)

API_KEY_PATTERN = re.compile(r"^eva_([A-Za-z0-9_-]{43})$")
LOCAL_TOKEN_ISSUER = "evaapi"
LOCAL_TOKEN_AUDIENCE = "evaapi-local"
_LAST_USED_EVERY_SECONDS = 60


# --- audit ------------------------------------------------------------------------------------
def audit_record(
    *, tenant_id: str, actor: str, action: str, resource_type: str, resource_id: str | None = None,
    outcome: str = "success",
) -> AuditEntry:
    entry = AuditEntry(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        request_id=current_request_id(),
        client_ip=current_client_ip(),
        created_at=iso(utc_now()),
        outcome=outcome,
    )
    repositories.audit_insert(entry)
    return entry


# --- tenants ----------------------------------------------------------------------------------
def tenant_create(*, name: str, tier: str = TenantTier.FREE, tenant_id: str | None = None) -> Tenant:
    """`tenant_id` defaults to a new UUID; give the Entra ID tenant id (`tid`) to let that
    directory's tokens in."""
    if not name.strip():
        raise InvalidInput("A tenant needs a name.")
    try:
        tier = TenantTier(tier)
    except ValueError:
        raise InvalidInput(f"Unknown tier {tier!r}.") from None
    tenant = Tenant(
        id=tenant_id or str(uuid.uuid4()),
        name=name.strip(),
        tier=tier,
        status=TenantStatus.ACTIVE,
        created_at=iso(utc_now()),
    )
    try:
        return repositories.tenant_insert(tenant)
    except Conflict:
        raise InvalidInput(f"Tenant {tenant.id} already exists.") from None


# --- API keys ---------------------------------------------------------------------------------
def _key_hash(raw_key: str) -> str:
    # A keyed hash: a leaked store alone does not let anyone check guesses offline.
    return hmac.new(settings.API_KEY_PEPPER.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


def api_key_create(
    *,
    tenant: Tenant,
    actor: str,
    name: str,
    scopes,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
    rate_limit_burst: int | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key record and the secret key, which is shown once and never stored."""
    scopes = tuple(sorted(set(scopes)))
    unknown = set(scopes) - set(ALL_SCOPES)
    if unknown or not scopes:
        raise InvalidInput("Unknown or no scopes.", details={"scopes": sorted(unknown)})
    if expires_at is not None and expires_at <= utc_now():
        raise InvalidInput("expires_at must be in the future.")
    for _ in range(3):  # a 72-bit prefix collision is astronomically rare; retry anyway
        raw = "eva_" + secrets.token_urlsafe(32)
        key = ApiKey(
            id=raw[4:16],
            tenant_id=tenant.id,
            name=name,
            key_hash=_key_hash(raw),
            scopes=scopes,
            created_at=iso(utc_now()),
            created_by=actor,
            expires_at=iso(expires_at),
            rate_limit_per_minute=rate_limit_per_minute,
            rate_limit_burst=rate_limit_burst,
        )
        try:
            key = repositories.api_key_insert(key)
            break
        except Conflict:
            continue
    audit_record(tenant_id=tenant.id, actor=actor, action="api_key.create", resource_type="api_key",
                 resource_id=key.id)
    return key, raw


def api_key_revoke(*, tenant: Tenant, actor: str, key_id: str) -> ApiKey:
    key = api_key_get(tenant=tenant, key_id=key_id)
    if key.revoked_at is None:
        key = repositories.api_key_set(key_id, revoked_at=iso(utc_now()))
    audit_record(tenant_id=tenant.id, actor=actor, action="api_key.revoke", resource_type="api_key",
                 resource_id=key_id)
    return key


def api_key_authenticate(*, raw_key: str) -> Principal:
    """The principal of a presented API key, or NotAuthenticated (one reason for every failure,
    so a caller learns nothing about which keys exist)."""
    match = API_KEY_PATTERN.match(raw_key)
    if not match:
        raise NotAuthenticated("Invalid API key.")
    try:
        key = repositories.api_key_read(raw_key[4:16])
    except NotFound:
        raise NotAuthenticated("Invalid API key.") from None
    now = utc_now()
    if not hmac.compare_digest(key.key_hash, _key_hash(raw_key)) or not key.usable_at(now):
        raise NotAuthenticated("Invalid API key.")
    tenant = _active_tenant(key.tenant_id)
    _api_key_touch(key, now)
    return Principal(tenant=tenant, actor=f"api_key:{key.id}", scopes=frozenset(key.scopes), method="api_key",
                     rate_limit=key.rate_limit)


def _api_key_touch(key: ApiKey, now: datetime) -> None:
    """Record last use at most once a minute per key, across every process (a Redis gate)."""
    try:
        first = redis_client().set(f"apikey:used:{key.id}", 1, nx=True, ex=_LAST_USED_EVERY_SECONDS)
    except redis.RedisError:
        return  # not worth failing or slowing a request for
    if first:
        repositories.api_key_set(key.id, last_used_at=iso(now))


def _active_tenant(tenant_id: str) -> Tenant:
    try:
        tenant = repositories.tenant_read(tenant_id)
    except NotFound:
        raise NotAuthenticated("Unknown tenant.") from None
    if tenant.status != TenantStatus.ACTIVE:
        raise Forbidden("This tenant is suspended.")
    return tenant


# --- tokens -----------------------------------------------------------------------------------
def principal_from_entra(*, token: str) -> Principal:
    from evaapi.auth.entra import TokenInvalid, entra_token_verify

    try:
        identity = entra_token_verify(token)
    except TokenInvalid as exc:
        raise NotAuthenticated(f"Invalid token: {exc}") from None
    tenant = _active_tenant(identity.tenant_id)
    return Principal(tenant=tenant, actor=f"entra:{identity.subject}", scopes=identity.scopes, method="entra")


def principal_from_local_token(*, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET_KEY,
            algorithms=["HS256"],
            audience=LOCAL_TOKEN_AUDIENCE,
            issuer=LOCAL_TOKEN_ISSUER,
            options={"require": ["exp", "iat", "sub", "tid"]},
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"Invalid token: {exc}") from None
    tenant = _active_tenant(claims["tid"])
    return Principal(tenant=tenant, actor=claims["sub"], scopes=frozenset(claims.get("scopes", [])), method="local")


def _login_failure_keys(username: str, client_ip: str | None) -> list[str]:
    return [f"login:fail:user:{username.lower()}", f"login:fail:ip:{client_ip}"]


def _login_check_not_blocked(keys: list[str]) -> None:
    try:
        pipe = redis_client().pipeline()
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        values = pipe.execute()
    except redis.RedisError:
        logger.warning("login failure counter unavailable")
        return
    for count, ttl in zip(values[::2], values[1::2], strict=True):
        if count is not None and int(count) >= settings.LOGIN_MAX_FAILURES:
            raise RateLimited("Too many failed logins; try again later.", retry_after=max(int(ttl), 1))


def _login_count_failure(keys: list[str]) -> None:
    try:
        client = redis_client()
        counts = client.pipeline(transaction=False).incr(keys[0]).incr(keys[1]).execute()
        # The window starts at the first failure (EXPIRE ... NX needs Redis 7; ours may be 6.2).
        for key, count in zip(keys, counts, strict=True):
            if count == 1:
                client.expire(key, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    except redis.RedisError:
        logger.warning("login failure counter unavailable")


def login_token_issue(*, username: str, password: str) -> tuple[str, int]:
    """A short-lived access token for a Django user of a tenant: (token, lifetime in seconds)."""
    if not settings.LOCAL_LOGIN_ENABLED:
        raise ResourceNotFound("Local login is not enabled on this server.")
    keys = _login_failure_keys(username, current_client_ip())
    _login_check_not_blocked(keys)
    user = authenticate(username=username, password=password)
    membership = TenantMembership.objects.filter(user=user).first() if user is not None else None
    if membership is None:
        _login_count_failure(keys)
        audit_tenant = _tenant_of_username(username) or "_system"
        audit_record(tenant_id=audit_tenant, actor=f"username:{username[:150]}", action="auth.login",
                     resource_type="user", outcome="failure")
        raise NotAuthenticated("Wrong username or password.")
    lifetime = settings.JWT_ACCESS_TOKEN_MINUTES * 60
    now = utc_now()
    claims = {
        "iss": LOCAL_TOKEN_ISSUER,
        "aud": LOCAL_TOKEN_AUDIENCE,
        "sub": f"user:{user.pk}",
        "tid": membership.tenant_id,
        "scopes": sorted(set(membership.scopes) & set(ALL_SCOPES)),
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    token = jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS256")
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(keys[0])  # a success clears the username's failures, not the IP's
    audit_record(tenant_id=membership.tenant_id, actor=f"user:{user.pk}", action="auth.login", resource_type="user",
                 resource_id=str(user.pk))
    return token, lifetime


def _tenant_of_username(username: str) -> str | None:
    return (
        TenantMembership.objects.filter(user__username=username).values_list("tenant_id", flat=True).first()
    )
