"""Tenants and their members (the Django users who log in locally or use the admin)."""

import re
import uuid

from evaapi.auth import repositories, selectors
from evaapi.auth.domain import Tenant, TenantStatus, TenantTier
from evaapi.auth.models import TenantMembership
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.services.audit import audit_record
from evaapi.exceptions import Forbidden, InvalidInput, NotAuthenticated, ResourceNotFound
from evaapi.store import Conflict
from evaapi.times import iso, utc_now

# A tenant id is a path segment of admin and API addresses, a Cosmos DB item id and partition key,
# and a local token's `tid` (at most 64 characters, evaapi/auth/tokens.py): letters, digits, "-"
# and "_" are safe in all of them ("/", "?", "#", "\\" and spaces are not).
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _tenant_id_check(tenant_id: str) -> str:
    """The id, if a tenant may have it. A UUID is written as Entra ID writes a `tid` (lower case),
    so the directory's tokens find their tenant however the operator typed it."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidInput(
            f"Tenant id {tenant_id!r} is not allowed: use the Entra ID tenant id (a UUID) or up to 64 letters, "
            "digits, '-' and '_', starting with a letter or digit.", details={"tenant_id": ["Not allowed."]})
    return tenant_id.lower() if _UUID_PATTERN.fullmatch(tenant_id) else tenant_id


def tenant_create(*, name: str, tier: str = TenantTier.FREE, tenant_id: str | None = None,
                  actor: str = "cli") -> Tenant:
    """`tenant_id` defaults to a new UUID; give the Entra ID tenant id (`tid`) to let that
    directory's tokens in. Tenants are made by operators (the `create_tenant` command)."""
    if not name.strip():
        raise InvalidInput("A tenant needs a name.")
    try:
        tier = TenantTier(tier)
    except ValueError:
        raise InvalidInput(f"Unknown tier {tier!r}.") from None
    tenant = Tenant(
        id=str(uuid.uuid4()) if tenant_id is None else _tenant_id_check(tenant_id),
        name=name.strip(),
        tier=tier,
        status=TenantStatus.ACTIVE,
        created_at=iso(utc_now()),
    )
    try:
        tenant = repositories.tenant_insert(tenant)
    except Conflict:
        raise InvalidInput(f"Tenant {tenant.id} already exists.") from None
    audit_record(tenant_id=tenant.id, actor=actor, action="tenant.create", resource_type="tenant",
                 resource_id=tenant.id)
    return tenant


def tenant_active_get(*, tenant_id: str) -> Tenant:
    """The tenant credentials name, if it may use the API: unknown is 401, suspended is 403."""
    try:
        tenant = selectors.tenant_get(tenant_id=tenant_id)
    except ResourceNotFound:
        raise NotAuthenticated("Unknown tenant.") from None
    if tenant.status != TenantStatus.ACTIVE:
        raise Forbidden("This tenant is suspended.")
    return tenant


def tenant_member_add(*, tenant: Tenant, user, scopes, actor: str) -> TenantMembership:
    """Makes a Django user a member of `tenant` (a user belongs to one tenant: this moves them)
    with the scopes their login tokens carry."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - set(ALL_SCOPES)
    if unknown:
        raise InvalidInput("Unknown scopes.", details={"scopes": sorted(unknown)})
    membership, _ = TenantMembership.objects.update_or_create(
        user=user, defaults={"tenant_id": tenant.id, "scopes": scopes}
    )
    audit_record(tenant_id=tenant.id, actor=actor, action="tenant.member_add", resource_type="user",
                 resource_id=str(user.pk))
    return membership


def tenant_status_set(*, tenant: Tenant, status: str, actor: str) -> Tenant:
    """Suspends or reactivates a tenant. A suspended tenant's credentials get 403 at once
    (every request reads its tenant)."""
    try:
        status = TenantStatus(status)
    except ValueError:
        raise InvalidInput(f"Unknown tenant status {status!r}.") from None
    if tenant.status != status:
        tenant = repositories.tenant_update(tenant=tenant, status=status)
    action = "tenant.suspend" if status == TenantStatus.SUSPENDED else "tenant.activate"
    audit_record(tenant_id=tenant.id, actor=actor, action=action, resource_type="tenant", resource_id=tenant.id)
    return tenant
