import io

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from evaapi.auth.management.commands import list_api_keys, list_tenants, login_lockout_clear
from evaapi.auth.models import TenantMembership
from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.selectors import api_key_get, audit_log_list, tenant_get
from evaapi.auth.services.api_keys import api_key_create, api_key_revoke
from evaapi.auth.services.tenants import tenant_create
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_tenant_then_a_key_that_works():
    user = get_user_model().objects.create_user(username="ops", password="x" * 12)
    out, _ = run("create_tenant", "Acme", "--tier", "pro", "--user", "ops", "--user-scopes", "audit:read")
    tenant_id = out.split()[1]
    tenant = tenant_get(tenant_id=tenant_id)
    assert (tenant.name, tenant.tier) == ("Acme", "pro")
    assert TenantMembership.objects.get(user=user).scopes == ["audit:read"]
    secret, _ = run("create_api_key", tenant_id, "--name", "deploy", "--scopes", "audit:read")
    secret = secret.strip()
    assert api_key_get(tenant=tenant, key_id=secret[4:16]).name == "deploy"
    assert client_for(secret).get("/api/v1/audit-logs").status_code == 200


def test_commands_refuse_bad_input():
    with pytest.raises(CommandError, match="no Django user"):
        run("create_tenant", "Acme", "--user", "ghost")
    with pytest.raises(CommandError, match="No such tenant"):
        run("create_api_key", "no-such-tenant")
    run("create_tenant", "Dup", "--id", "dup-tenant-id")
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "Dup", "--id", "dup-tenant-id")


@pytest.mark.parametrize("tenant_id", ["acme/eu west", "acme eu", "acme/eu", "a?b", "a#b", "a\\b", "-acme", "acme\n",
                                       "x" * 65, "ünï"])
def test_create_tenant_refuses_an_id_unfit_for_addresses_and_the_store(tenant_id):
    """Such an id broke every address with the tenant in it: the admin's tenant list was a 500 for
    every operator."""
    with pytest.raises(CommandError, match="is not allowed: use the Entra ID tenant id"):
        run("create_tenant", "Odd", f"--id={tenant_id}")
    assert "Odd" not in run("list_tenants")[0]


def test_create_tenant_takes_entra_tenant_ids_and_short_names():
    """An Entra ID `tid` (a UUID, written in lower case as its tokens carry it, however typed) and
    a plain id both work, in the admin's addresses too."""
    out, _ = run("create_tenant", "Contoso", "--id", "7F0C7D52-3B1E-4C55-9A57-1D2E3F4A5B6C")
    assert out.split()[1] == "7f0c7d52-3b1e-4c55-9a57-1d2e3f4a5b6c"
    assert tenant_get(tenant_id="7f0c7d52-3b1e-4c55-9a57-1d2e3f4a5b6c").name == "Contoso"
    run("create_tenant", "Acme EU", "--id", "acme_eu-west-1")
    operator = Client()
    operator.force_login(get_user_model().objects.create_superuser(username="operator", password="x" * 12))
    page = operator.get("/" + settings.ADMIN_URL + "tenants/")
    assert page.status_code == 200
    assert b"acme_eu-west-1" in page.content


def test_create_api_key_refuses_what_the_api_refuses():
    tenant = tenant_create(name="Named")
    with pytest.raises(CommandError, match="--name: Ensure this field has no more than 100 characters"):
        run("create_api_key", tenant.id, "--name", "k" * 5000)
    with pytest.raises(CommandError, match='--scopes: "root" is not a valid choice'):
        run("create_api_key", tenant.id, "--scopes", "audit:read,root")
    assert list_api_keys_rows(tenant) == []
    run("create_api_key", tenant.id, "--name", "k" * 100)
    assert [row[1] for row in list_api_keys_rows(tenant)] == ["k" * 100]


def list_api_keys_rows(tenant) -> list[list[str]]:
    return [row.split("\t") for row in run("list_api_keys", tenant.id)[0].splitlines()[1:]]


def test_list_tenants_pages_through_every_tenant(monkeypatch):
    monkeypatch.setattr(list_tenants, "PAGE_SIZE", 1)
    created = [tenant_create(name=f"Listed {n}", tier="basic") for n in range(3)]
    out, _ = run("list_tenants")
    header, *rows = out.splitlines()
    assert header.split("\t") == ["id", "name", "tier", "status", "created"]
    listed = {row.split("\t")[0]: row.split("\t") for row in rows}
    for tenant in created:
        assert listed[tenant.id] == [tenant.id, tenant.name, "basic", "active", tenant.created_at]


def test_list_api_keys_shows_every_key_of_the_tenant_and_never_a_hash(monkeypatch):
    monkeypatch.setattr(list_api_keys, "PAGE_SIZE", 1)
    tenant, other = tenant_create(name="Keyed"), tenant_create(name="Other")
    kept, _ = api_key_create(tenant=tenant, actor="test", name="ci", scopes=["audit:read", "spaces:read"])
    revoked, _ = api_key_create(tenant=tenant, actor="test", name="old", scopes=["admin"])
    revoked = api_key_revoke(tenant=tenant, actor="test", key_id=revoked.id)
    foreign, _ = api_key_create(tenant=other, actor="test", name="foreign", scopes=["admin"])
    out, _ = run("list_api_keys", tenant.id)
    header, *rows = out.splitlines()
    assert header.split("\t") == ["id", "name", "scopes", "created", "expires", "revoked", "last used"]
    assert [row.split("\t") for row in rows] == [
        [revoked.id, "old", "admin", revoked.created_at, "-", revoked.revoked_at, "-"],
        [kept.id, "ci", "audit:read,spaces:read", kept.created_at, "-", "-", "-"],
    ]
    for hidden in (kept.key_hash, revoked.key_hash, foreign.id):
        assert hidden not in out
    with pytest.raises(CommandError, match="No such tenant"):
        run("list_api_keys", "no-such-tenant")


def test_add_member_makes_an_existing_user_a_member_and_is_audited():
    tenant = tenant_create(name="Members")
    user = get_user_model().objects.create_user(username="member1", password="x" * 12)
    out, _ = run("add_member", tenant.id, "member1", "--scopes", "audit:read,spaces:read")
    assert f"user member1 is a member of tenant {tenant.id}" in out
    membership = TenantMembership.objects.get(user=user)
    assert (membership.tenant_id, membership.scopes) == (tenant.id, ["audit:read", "spaces:read"])
    entries, _ = audit_log_list(tenant=tenant, filters={"action": "tenant.member_add"}, limit=10, continuation=None)
    assert [(e.actor, e.resource_id) for e in entries] == [("cli", str(user.pk))]
    # A user belongs to one tenant: adding them to another moves them.
    moved_to = tenant_create(name="Elsewhere")
    run("add_member", moved_to.id, "member1")
    membership.refresh_from_db()
    assert membership.tenant_id == moved_to.id
    assert membership.scopes == sorted(set(ALL_SCOPES) - {"admin"})  # the default


def test_add_member_refuses_bad_input():
    tenant = tenant_create(name="Strict")
    get_user_model().objects.create_user(username="member2", password="x" * 12)
    with pytest.raises(CommandError, match="no Django user"):
        run("add_member", tenant.id, "ghost")
    with pytest.raises(CommandError, match="No such tenant"):
        run("add_member", "no-such-tenant", "member2")
    with pytest.raises(CommandError, match="Unknown scopes"):
        run("add_member", tenant.id, "member2", "--scopes", "audit:read,root")
    assert not TenantMembership.objects.filter(user__username="member2").exists()


@override_settings(LOGIN_MAX_FAILURES=2)
def test_login_lockout_clear_ends_a_lockout():
    tenant = tenant_create(name="Locked")
    user = get_user_model().objects.create_user(username="locked1", password="correct horse 1")
    TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=["audit:read"])

    def login(password):
        return client_for().post("/api/v1/auth/login", {"username": "locked1", "password": password}, format="json")

    assert [login("wrong").status_code for _ in range(2)] == [401, 401]
    assert login("correct horse 1").status_code == 429
    out, _ = run("login_lockout_clear", "locked1")
    assert "locked1" in out
    assert login("correct horse 1").status_code == 200


def test_login_lockout_clear_says_when_redis_is_unreachable(monkeypatch):
    def unreachable(*, username):
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(login_lockout_clear, "login_failures_clear", unreachable)
    with pytest.raises(CommandError, match="Redis"):
        run("login_lockout_clear", "anyone")
