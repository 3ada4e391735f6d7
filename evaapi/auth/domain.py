"""Entities of authentication: tenants, API keys, the principal of a request, audit entries."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from evaapi.auth.ratelimit import RateLimit


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z and fixed microseconds, so strings sort in time order."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


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
