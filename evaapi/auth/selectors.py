"""Reads of the auth package. Every read of a tenant's resource takes the tenant; another
tenant's resource is a 404, exactly like a missing one."""

from evaapi.auth import repositories
from evaapi.auth.domain import ApiKey, AuditEntry, Tenant
from evaapi.auth.models import TenantMembership
from evaapi.exceptions import ResourceNotFound
from evaapi.store import NotFound


def tenant_get(*, tenant_id: str) -> Tenant:
    try:
        return repositories.tenant_read(tenant_id=tenant_id)
    except NotFound:
        raise ResourceNotFound("No such tenant.") from None


def api_key_get(*, tenant: Tenant, key_id: str) -> ApiKey:
    try:
        return repositories.api_key_read(tenant_id=tenant.id, key_id=key_id)
    except NotFound:
        raise ResourceNotFound("No such API key.") from None


def api_key_list(*, tenant: Tenant, limit: int, continuation: str | None) -> tuple[list[ApiKey], str | None]:
    return repositories.api_key_page(tenant_id=tenant.id, limit=limit, continuation=continuation)


def audit_log_list(
    *, tenant: Tenant, filters: dict[str, str], limit: int, continuation: str | None
) -> tuple[list[AuditEntry], str | None]:
    return repositories.audit_page(tenant_id=tenant.id, filters=filters, limit=limit, continuation=continuation)


def tenant_list(*, limit: int, continuation: str | None) -> tuple[list[Tenant], str | None]:
    """Every tenant, newest first: for operators (commands, admin), never for API clients."""
    return repositories.tenant_page(limit=limit, continuation=continuation)


def membership_of_user(*, user_id: int) -> TenantMembership | None:
    """The user's tenant membership, with the user, in one query."""
    return TenantMembership.objects.select_related("user").filter(user_id=user_id).first()
