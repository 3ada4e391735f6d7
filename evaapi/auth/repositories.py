"""Store access for tenants, API keys and the audit log (the only module here touching the store)."""

from dataclasses import asdict

from django.conf import settings

from evaapi.auth.domain import ApiKey, AuditEntry, Tenant, TenantStatus, TenantTier
from evaapi.store import ContainerSpec, Page, Query, container_register, patch_set, store
from evaapi.store import query as q

TENANTS = container_register(ContainerSpec(name="tenants", partition_key="/id"))

# Partitioned by the key's own id (its lookup prefix) so authenticating a request is one point
# read; listing a tenant's keys is the rare cross-partition query.
API_KEYS = container_register(
    ContainerSpec(
        name="api_keys",
        partition_key="/id",
        filter_fields=("tenant_id",),
        orderings=((("created_at", "desc"),),),
    )
)

AUDIT_LOGS = container_register(
    ContainerSpec(
        name="audit_logs",
        partition_key="/tenant_id",
        default_ttl=-1,  # each entry carries its own ttl, from AUDIT_LOG_TTL_DAYS when written
        filter_fields=("actor", "action", "resource_type", "resource_id"),
        orderings=((("created_at", "desc"),),),
    )
)


def _tenant(item: dict) -> Tenant:
    return Tenant(
        id=item["id"],
        name=item["name"],
        tier=TenantTier(item["tier"]),
        status=TenantStatus(item["status"]),
        created_at=item["created_at"],
    )


def tenant_insert(tenant: Tenant) -> Tenant:
    return _tenant(store().container(TENANTS).create(asdict(tenant)))


def tenant_read(tenant_id: str) -> Tenant:
    return _tenant(store().container(TENANTS).read(tenant_id, partition_key=tenant_id))


_API_KEY_FIELDS = tuple(ApiKey.__dataclass_fields__)


def _api_key(item: dict) -> ApiKey:
    fields = {name: item.get(name) for name in _API_KEY_FIELDS}
    fields["scopes"] = tuple(fields["scopes"] or ())
    return ApiKey(**fields)


def api_key_insert(key: ApiKey) -> ApiKey:
    item = asdict(key)
    item["scopes"] = list(key.scopes)
    return _api_key(store().container(API_KEYS).create(item))


def api_key_read(key_id: str) -> ApiKey:
    return _api_key(store().container(API_KEYS).read(key_id, partition_key=key_id))


def api_key_set(key_id: str, **fields) -> ApiKey:
    operations = [patch_set(f"/{name}", value) for name, value in fields.items()]
    return _api_key(store().container(API_KEYS).patch(key_id, partition_key=key_id, operations=operations))


def api_key_page(*, tenant_id: str, limit: int, continuation: str | None) -> tuple[list[ApiKey], str | None]:
    page: Page = store().container(API_KEYS).query(
        Query(filters=(q.eq("tenant_id", tenant_id),), order_by=(("created_at", "desc"),), limit=limit,
              continuation=continuation),
        partition_key=None,
    )
    return [_api_key(item) for item in page.items], page.continuation


def audit_insert(entry: AuditEntry) -> None:
    item = asdict(entry)
    item["ttl"] = settings.AUDIT_LOG_TTL_DAYS * 86400
    store().container(AUDIT_LOGS).create(item)


def audit_page(*, tenant_id: str, filters: dict, limit: int, continuation: str | None):
    page = store().container(AUDIT_LOGS).query(
        Query(
            filters=tuple(q.eq(name, value) for name, value in filters.items()),
            order_by=(("created_at", "desc"),),
            limit=limit,
            continuation=continuation,
        ),
        partition_key=tenant_id,
    )
    fields = AuditEntry.__dataclass_fields__
    return [AuditEntry(**{name: item.get(name) for name in fields}) for item in page.items], page.continuation
