"""Tenants and their members (the Django users who log in locally or use the admin)."""

import uuid

from evaapi.auth import repositories, selectors
from evaapi.auth.domain import Tenant, TenantStatus, TenantTier
from evaapi.auth.models import TenantMembership
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.services.audit import audit_record
from evaapi.exceptions import Forbidden, InvalidInput, NotAuthenticated, ResourceNotFound
from evaapi.store import Conflict
from evaapi.times import iso, utc_now


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
        id=tenant_id or str(uuid.uuid4()),
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
