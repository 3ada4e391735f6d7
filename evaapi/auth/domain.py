"""Entities of authentication: tenants, API keys, the principal of a request, audit entries."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from evaapi.times import parse_iso


@dataclass(frozen=True)
class RateLimit:
    per_minute: int
    burst: int


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int  # per_minute, for X-RateLimit-Limit
    remaining: int  # requests that would pass right now, for X-RateLimit-Remaining
    reset_seconds: int  # seconds until the bucket is full again, for X-RateLimit-Reset
    retry_after: int | None  # whole seconds (ceil, >= 1) when not allowed


class TokenInvalid(Exception):
    """A bearer token is not accepted. The message is safe to show the client."""


class TenantTier(StrEnum):
    FREE = "free"
    BASIC = "basic"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    tier: TenantTier
    status: TenantStatus
    created_at: str
    etag: str | None = None  # of the stored item, for writes that must not race


@dataclass(frozen=True)
class ApiKey:
    id: str  # also the key's lookup prefix: the 12 characters after "eva_"
    tenant_id: str
    name: str
    key_hash: str
    scopes: tuple[str, ...]
    created_at: str
    created_by: str
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None
    rate_limit_per_minute: int | None = None
    rate_limit_burst: int | None = None
    etag: str | None = None  # of the stored item, for writes that must not race

    @property
    def prefix(self) -> str:
        return f"eva_{self.id}"

    @property
    def rate_limit(self) -> RateLimit | None:
        if self.rate_limit_per_minute is None:
            return None
        return RateLimit(self.rate_limit_per_minute, self.rate_limit_burst or self.rate_limit_per_minute)

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or parse_iso(self.expires_at) > moment


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which tenant, allowed to do what. DRF's `request.user`."""

    tenant: Tenant
    actor: str  # "api_key:<id>", "user:<id>" or "entra:<object id>"
    scopes: frozenset[str]
    method: str  # "api_key" | "local" | "entra"
    rate_limit: RateLimit | None = None  # a key's own limit, when lower than its tenant's

    is_authenticated = True
    is_anonymous = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


@dataclass(frozen=True)
class AuditEntry:
    id: str
    tenant_id: str
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    request_id: str | None
    client_ip: str | None
    created_at: str
    outcome: str = "success"
