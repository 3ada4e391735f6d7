"""The admin's tenant and API key pages: read from the store, two audited POST actions (revoke a
key, suspend or reactivate a tenant), and the tenant wall: a staff user who is not a superuser
sees only their own tenant, and anything of another tenant is a 404."""

import html
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from evaapi.auth import admin_views
from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import api_key_get, audit_log_list, tenant_get
from evaapi.auth.services.api_keys import api_key_create
from tests.factories import api_key_make, client_for, tenant_make

pytestmark = pytest.mark.django_db


def _user(*, staff=True, superuser=False, tenant=None):
    user = get_user_model().objects.create_user(username=f"u{uuid.uuid4().hex[:8]}", password="correct horse 1",
                                                is_staff=staff, is_superuser=superuser)
    if tenant is not None:
        TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=[])
    return user


def _client(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


@pytest.fixture
def operator():
    """A platform operator: a superuser, member of no tenant."""
    return _user(superuser=True)


@pytest.fixture
def keyed_tenant():
    """A tenant, its key record and the key's secret."""
    tenant = tenant_make()
    key, secret = api_key_create(tenant=tenant, actor="test", name="deploy key", scopes=["audit:read"])
    return tenant, key, secret


def _next_page(response) -> str | None:
    match = re.search(r'href="(\?continuation=[^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def _audit(tenant, action):
    entries, _ = audit_log_list(tenant=tenant, filters={"action": action}, limit=10, continuation=None)
    return entries


def test_the_admin_index_links_the_tenant_pages(operator):
    response = _client(operator).get("/admin/")
    assert response.status_code == 200
    assert b'href="/admin/tenants/"' in response.content


def test_an_operator_pages_through_every_tenant_newest_first(operator, monkeypatch):
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    oldest, middle, newest = tenant_make(), tenant_make(), tenant_make()
    client = _client(operator)
    first = client.get("/admin/tenants/")
    assert first.status_code == 200
    page = first.content.decode()
    assert newest.id in page
    assert newest.name in page
    assert middle.id in page
    assert oldest.id not in page
    second = client.get("/admin/tenants/" + _next_page(first))
    assert second.status_code == 200
    assert oldest.id in second.content.decode()
    assert newest.id not in second.content.decode()


def test_the_tenant_page_pages_through_its_keys_and_never_shows_a_hash(operator, monkeypatch):
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    tenant = tenant_make()
    keys = [api_key_create(tenant=tenant, actor="test", name=f"key {n}", scopes=["audit:read"])[0]
            for n in range(3)]
    client = _client(operator)
    first = client.get(f"/admin/tenants/{tenant.id}/")
    assert first.status_code == 200
    page = first.content.decode()
    for shown in (tenant.name, "enterprise", "active", keys[2].id, keys[1].id):
        assert shown in page
    assert keys[0].id not in page
    second = client.get(f"/admin/tenants/{tenant.id}/" + _next_page(first))
    assert keys[0].id in second.content.decode()
    for response in (first, second):
        assert not any(key.key_hash in response.content.decode() for key in keys)


def test_the_key_page_shows_the_key_without_its_hash(operator, keyed_tenant):
    tenant, key, _ = keyed_tenant
    response = _client(operator).get(f"/admin/tenants/{tenant.id}/keys/{key.id}/")
    assert response.status_code == 200
    page = response.content.decode()
    for shown in (key.prefix, "deploy key", "audit:read"):
        assert shown in page
    assert key.key_hash not in page


def test_an_unknown_tenant_or_key_is_a_404(operator, keyed_tenant):
    tenant, _, _ = keyed_tenant
    client = _client(operator)
    assert client.get("/admin/tenants/no-such-tenant/").status_code == 404
    assert client.get(f"/admin/tenants/{tenant.id}/keys/nosuchkey000/").status_code == 404


def test_revoking_a_key_from_the_admin_is_audited_and_takes_effect(operator, keyed_tenant):
    tenant, key, secret = keyed_tenant
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200
    response = _client(operator).post(f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/{tenant.id}/keys/{key.id}/"
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is not None
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 401
    [entry] = _audit(tenant, "api_key.revoke")
    assert (entry.actor, entry.resource_id) == (f"admin:{operator.pk}", key.id)


def test_suspending_a_tenant_refuses_its_keys_and_reactivating_lets_them_in(operator, keyed_tenant):
    tenant, _, secret = keyed_tenant
    client = _client(operator)
    response = client.post(f"/admin/tenants/{tenant.id}/status/", {"status": "suspended"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/{tenant.id}/"
    assert tenant_get(tenant_id=tenant.id).status == "suspended"
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 403
    assert client.post(f"/admin/tenants/{tenant.id}/status/", {"status": "active"}).status_code == 302
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200
    assert [e.actor for e in _audit(tenant, "tenant.suspend")] == [f"admin:{operator.pk}"]
    assert [e.actor for e in _audit(tenant, "tenant.activate")] == [f"admin:{operator.pk}"]


def test_an_unknown_status_is_refused(operator, keyed_tenant):
    tenant, _, _ = keyed_tenant
    assert _client(operator).post(f"/admin/tenants/{tenant.id}/status/", {"status": "gone"}).status_code == 400
    assert tenant_get(tenant_id=tenant.id).status == "active"


def test_the_actions_are_posts_with_a_csrf_token(operator, keyed_tenant):
    tenant, key, _ = keyed_tenant
    client = _client(operator, enforce_csrf_checks=True)
    revoke = f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/"
    status = f"/admin/tenants/{tenant.id}/status/"
    assert client.get(revoke).status_code == 405
    assert client.get(status).status_code == 405
    assert client.post(revoke).status_code == 403
    assert client.post(status, {"status": "suspended"}).status_code == 403
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is None
    assert tenant_get(tenant_id=tenant.id).status == "active"
    # The pages' own forms carry the token.
    page = client.get(f"/admin/tenants/{tenant.id}/keys/{key.id}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(revoke, {"csrfmiddlewaretoken": token}).status_code == 302
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is not None


def test_a_tenants_staff_user_sees_only_their_own_tenant(keyed_tenant):
    tenant, key, _ = keyed_tenant
    other_tenant = tenant_make()
    client = _client(_user(tenant=tenant))
    listing = client.get("/admin/tenants/")
    assert listing.status_code == 200
    assert tenant.id in listing.content.decode()
    assert other_tenant.id not in listing.content.decode()
    assert client.get(f"/admin/tenants/{tenant.id}/").status_code == 200
    assert client.get(f"/admin/tenants/{tenant.id}/keys/{key.id}/").status_code == 200


def test_a_tenants_staff_user_can_revoke_its_keys(keyed_tenant):
    tenant, key, _ = keyed_tenant
    user = _user(tenant=tenant)
    assert _client(user).post(f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/").status_code == 302
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is not None
    assert [e.actor for e in _audit(tenant, "api_key.revoke")] == [f"admin:{user.pk}"]


def test_only_an_operator_changes_a_tenants_status(keyed_tenant):
    """A suspension is the platform's decision: the suspended tenant's own staff cannot lift it."""
    tenant, _, _ = keyed_tenant
    client = _client(_user(tenant=tenant))
    assert client.post(f"/admin/tenants/{tenant.id}/status/", {"status": "suspended"}).status_code == 403
    assert tenant_get(tenant_id=tenant.id).status == "active"
    assert b"/status/" not in client.get(f"/admin/tenants/{tenant.id}/").content


def test_another_tenants_pages_and_actions_are_404_to_a_tenants_staff_user(keyed_tenant):
    tenant, key, _ = keyed_tenant
    own_tenant = tenant_make()
    own_key, _ = api_key_create(tenant=own_tenant, actor="test", name="own", scopes=["audit:read"])
    client = _client(_user(tenant=own_tenant))
    assert client.get(f"/admin/tenants/{tenant.id}/").status_code == 404
    assert client.get(f"/admin/tenants/{tenant.id}/?continuation=x").status_code == 404
    assert client.get(f"/admin/tenants/{tenant.id}/keys/{key.id}/").status_code == 404
    assert client.post(f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/").status_code == 404
    assert client.post(f"/admin/tenants/{tenant.id}/status/", {"status": "suspended"}).status_code == 404
    # Another tenant's key under one's own tenant's path is a 404 too.
    assert client.get(f"/admin/tenants/{own_tenant.id}/keys/{key.id}/").status_code == 404
    assert client.post(f"/admin/tenants/{own_tenant.id}/keys/{key.id}/revoke/").status_code == 404
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is None
    assert api_key_get(tenant=own_tenant, key_id=own_key.id).revoked_at is None
    assert tenant_get(tenant_id=tenant.id).status == "active"
    assert _audit(tenant, "api_key.revoke") == []
    assert _audit(tenant, "tenant.suspend") == []


def test_a_staff_user_of_no_tenant_sees_none(keyed_tenant):
    tenant, key, _ = keyed_tenant
    client = _client(_user())
    listing = client.get("/admin/tenants/")
    assert listing.status_code == 200
    assert tenant.id not in listing.content.decode()
    assert client.get(f"/admin/tenants/{tenant.id}/").status_code == 404
    assert client.get(f"/admin/tenants/{tenant.id}/keys/{key.id}/").status_code == 404
    assert client.post(f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/").status_code == 404


@pytest.mark.parametrize("user_kind", ["anonymous", "not staff"])
def test_the_pages_and_actions_are_closed_to_anyone_but_staff(user_kind, keyed_tenant):
    tenant, key, secret = keyed_tenant
    client = Client() if user_kind == "anonymous" else _client(_user(staff=False, tenant=tenant))
    for path in ("/admin/tenants/", f"/admin/tenants/{tenant.id}/", f"/admin/tenants/{tenant.id}/keys/{key.id}/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    assert client.post(f"/admin/tenants/{tenant.id}/keys/{key.id}/revoke/").status_code == 302
    assert client.post(f"/admin/tenants/{tenant.id}/status/", {"status": "suspended"}).status_code == 302
    assert api_key_get(tenant=tenant, key_id=key.id).revoked_at is None
    assert tenant_get(tenant_id=tenant.id).status == "active"
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200


def test_a_tenants_staff_user_sees_only_their_tenants_memberships(keyed_tenant):
    tenant, _, _ = keyed_tenant
    other = _user(tenant=tenant_make())
    colleague = _user(tenant=tenant)
    user = _user(tenant=tenant)
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_tenantmembership"))
    client = _client(user)
    listing = client.get("/admin/eva_auth/tenantmembership/")
    assert listing.status_code == 200
    assert colleague.username in listing.content.decode()
    assert other.username not in listing.content.decode()
    # Memberships decide the wall, so only an operator adds or changes them.
    membership = TenantMembership.objects.get(user=colleague)
    assert client.get("/admin/eva_auth/tenantmembership/add/").status_code == 403
    assert client.post(f"/admin/eva_auth/tenantmembership/{membership.pk}/change/",
                       {"user": colleague.pk, "tenant_id": "elsewhere", "scopes": "[]"}).status_code == 403
    assert TenantMembership.objects.get(user=colleague).tenant_id == tenant.id


def test_the_api_key_made_for_a_tenant_is_not_listed_under_another(operator, keyed_tenant):
    _, key, _ = keyed_tenant
    other = tenant_make()
    api_key_make(other)
    response = _client(operator).get(f"/admin/tenants/{other.id}/")
    assert key.id not in response.content.decode()
