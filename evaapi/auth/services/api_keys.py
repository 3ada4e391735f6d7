"""API keys: `eva_` + 43 characters, stored only as a keyed hash; the 12 characters after the
prefix are the key's id, so authenticating a request is one point read."""

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import datetime

import redis
from django.conf import settings

from evaapi.auth import repositories
from evaapi.auth.domain import ApiKey, Principal, Tenant
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.selectors import api_key_get
from evaapi.auth.services.audit import audit_record
from evaapi.auth.services.tenants import tenant_active_get
from evaapi.exceptions import InvalidInput, NotAuthenticated
from evaapi.redis import redis_client
from evaapi.store import Conflict, NotFound, PreconditionFailed
from evaapi.times import iso, utc_now

logger = logging.getLogger(__name__)

API_KEY_PATTERN = re.compile(r"^eva_([A-Za-z0-9_-]{43})$")
_LAST_USED_EVERY_SECONDS = 60


def _key_hash(raw_key: str, pepper: str) -> str:
    # A keyed hash: a leaked store alone does not let anyone check guesses offline.
    return hmac.new(pepper.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


def _key_hash_matches(key: ApiKey, raw_key: str) -> str | None:
    """Which pepper the stored hash was made with ("current" or "previous"), or None."""
    if hmac.compare_digest(key.key_hash, _key_hash(raw_key, settings.API_KEY_PEPPER)):
        return "current"
    for pepper in settings.API_KEY_PEPPER_PREVIOUS:
        if hmac.compare_digest(key.key_hash, _key_hash(raw_key, pepper)):
            return "previous"
    return None


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
            key_hash=_key_hash(raw, settings.API_KEY_PEPPER),
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
        key = repositories.api_key_update(key=key, revoked_at=iso(utc_now()))
    audit_record(tenant_id=tenant.id, actor=actor, action="api_key.revoke", resource_type="api_key",
                 resource_id=key_id)
    return key


def api_key_authenticate(*, raw_key: str) -> Principal:
    """The principal of a presented API key, or NotAuthenticated (one reason for every failure,
    so a caller learns nothing about which keys exist)."""
    if not API_KEY_PATTERN.match(raw_key):
        raise NotAuthenticated("Invalid API key.")
    try:
        key = repositories.api_key_lookup(key_id=raw_key[4:16])
    except NotFound:
        raise NotAuthenticated("Invalid API key.") from None
    now = utc_now()
    pepper = _key_hash_matches(key, raw_key)
    if pepper is None or not key.usable_at(now):
        raise NotAuthenticated("Invalid API key.")
    tenant = tenant_active_get(tenant_id=key.tenant_id)
    if pepper == "previous":
        _api_key_rehash(key, raw_key)
    else:
        _api_key_touch(key, now)
    return Principal(tenant=tenant, actor=f"api_key:{key.id}", scopes=frozenset(key.scopes), method="api_key",
                     rate_limit=key.rate_limit)


def _api_key_rehash(key: ApiKey, raw_key: str) -> None:
    """A key still hashed with a previous pepper moves to the current one on its first use, so
    a pepper rotation ends once every key has been used (or API_KEY_PEPPER_PREVIOUS is cleared)."""
    with contextlib.suppress(PreconditionFailed, NotFound):  # changed meanwhile: the next use tries again
        repositories.api_key_update(key=key, key_hash=_key_hash(raw_key, settings.API_KEY_PEPPER),
                                    last_used_at=iso(utc_now()))


# key id -> time.monotonic() of this process's last touch: most requests need no Redis call.
_touched: dict[str, float] = {}


def _api_key_touch(key: ApiKey, now: datetime) -> None:
    """Record last use at most once a minute per key, across every process (a Redis gate),
    asking Redis at most once a minute per key from each process."""
    if time.monotonic() - _touched.get(key.id, float("-inf")) < _LAST_USED_EVERY_SECONDS:
        return
    _touched[key.id] = time.monotonic()
    try:
        first = redis_client().set(f"apikey:used:{key.id}", 1, nx=True, ex=_LAST_USED_EVERY_SECONDS)
    except redis.RedisError:
        return  # not worth failing or slowing a request for
    if first:
        with contextlib.suppress(PreconditionFailed, NotFound):  # revoked or changed meanwhile: that write wins
            repositories.api_key_update(key=key, last_used_at=iso(now))
