"""Reads of the auth package. Every read takes the tenant; another tenant's resource is a 404."""

from evaapi.auth import repositories
from evaapi.auth.domain import ApiKey, AuditEntry, Tenant
from evaapi.exceptions import ResourceNotFound
from evaapi.store import NotFound


def tenant_get(*, tenant_id: str) -> Tenant:
    try:
        return repositories.tenant_read(tenant_id)
    except NotFound:
        raise ResourceNotFound("No such tenant.") from None


def api_key_get(*, tenant: Tenant, key_id: str) -> ApiKey:
    try:
        key = repositories.api_key_read(key_id)
    except NotFound:
        key = None
    if key is None or key.tenant_id != tenant.id:
        raise ResourceNotFound("No such API key.")
    return key


def api_key_list(*, tenant: Tenant, limit: int, continuation: str | None) -> tuple[list[ApiKey], str | None]:
    return repositories.api_key_page(tenant_id=tenant.id, limit=limit, continuation=continuation)


def audit_log_list(
    *, tenant: Tenant, filters: dict[str, str], limit: int, continuation: str | None
) -> tuple[list[AuditEntry], str | None]:
    return repositories.audit_page(tenant_id=tenant.id, filters=filters, limit=limit, continuation=continuation)
