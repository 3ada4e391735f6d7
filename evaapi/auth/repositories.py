"""Store access for tenants, API keys and the audit log (the only module here touching the store)."""

from dataclasses import asdict

from django.conf import settings

from evaapi.auth.domain import ApiKey, AuditEntry, Tenant, TenantStatus, TenantTier
from evaapi.store import ContainerSpec, NotFound, Page, Query, container_register, patch_set, store
from evaapi.store import query as q

TENANTS = container_register(
    ContainerSpec(name="tenants", partition_key="/id", orderings=((("created_at", "desc"),),))
)

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
        etag=item.get("_etag"),
    )


def _tenant_item(tenant: Tenant) -> dict:
    item = asdict(tenant)
    del item["etag"]
    return item


def tenant_insert(tenant: Tenant) -> Tenant:
    return _tenant(store().container(TENANTS).create(_tenant_item(tenant)))


def tenant_read(*, tenant_id: str) -> Tenant:
    return _tenant(store().container(TENANTS).read(tenant_id, partition_key=tenant_id))


def tenant_update(*, tenant: Tenant, **fields) -> Tenant:
    """Sets `fields` on `tenant` as it was read, only if it is unchanged since (else PreconditionFailed)."""
    if tenant.etag is None:
        raise ValueError("tenant_update needs a tenant read from the store (with its etag)")
    operations = [patch_set(f"/{name}", value) for name, value in fields.items()]
    return _tenant(store().container(TENANTS).patch(tenant.id, partition_key=tenant.id, operations=operations,
                                                    etag=tenant.etag))


def tenant_page(*, limit: int, continuation: str | None) -> tuple[list[Tenant], str | None]:
    """Every tenant, newest first (operators' listings; a cross-partition query)."""
    page = store().container(TENANTS).query(
        Query(order_by=(("created_at", "desc"),), limit=limit, continuation=continuation), partition_key=None
    )
    return [_tenant(item) for item in page.items], page.continuation


_API_KEY_FIELDS = tuple(name for name in ApiKey.__dataclass_fields__ if name != "etag")


def _api_key(item: dict) -> ApiKey:
    fields = {name: item.get(name) for name in _API_KEY_FIELDS}
    fields["scopes"] = tuple(fields["scopes"] or ())
    return ApiKey(**fields, etag=item.get("_etag"))


def api_key_insert(key: ApiKey) -> ApiKey:
    item = {name: getattr(key, name) for name in _API_KEY_FIELDS}
    item["scopes"] = list(key.scopes)
    return _api_key(store().container(API_KEYS).create(item))


def api_key_lookup(*, key_id: str) -> ApiKey:
    """The key with this id whatever its tenant: for authentication only, which is how a
    request's tenant is learnt. Everything else reads through `api_key_read`."""
    return _api_key(store().container(API_KEYS).read(key_id, partition_key=key_id))


def api_key_read(*, tenant_id: str, key_id: str) -> ApiKey:
    """Another tenant's key is NotFound, exactly like a missing one."""
    key = api_key_lookup(key_id=key_id)
    if key.tenant_id != tenant_id:
        raise NotFound(f"api_keys: {key_id!r} not found")
    return key


def api_key_update(*, key: ApiKey, **fields) -> ApiKey:
    """Sets `fields` on `key` as it was read (through a tenant-checked read), only if it is
    unchanged since: the etag ties the write to that read, so it cannot reach another
    tenant's key nor undo a concurrent change (PreconditionFailed)."""
    if key.etag is None:
        raise ValueError("api_key_update needs a key read from the store (with its etag)")
    operations = [patch_set(f"/{name}", value) for name, value in fields.items()]
    item = store().container(API_KEYS).patch(key.id, partition_key=key.id, operations=operations, etag=key.etag)
    return _api_key(item)


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
