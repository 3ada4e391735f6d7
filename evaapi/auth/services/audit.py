"""The audit log: who did what to which resource, from where, with which request."""

import uuid

from evaapi.auth import repositories
from evaapi.auth.domain import AuditEntry
from evaapi.http.context import current_client_ip, current_request_id
from evaapi.times import iso, utc_now

# The tenant of entries that belong to no tenant, e.g. a failed login with an unknown username.
SYSTEM_TENANT_ID = "_system"


def audit_record(
    *, tenant_id: str, actor: str, action: str, resource_type: str, resource_id: str | None = None,
    outcome: str = "success",
) -> AuditEntry:
    """Takes the tenant's id, not the tenant: failed logins are recorded before (or without)
    knowing a tenant."""
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
