import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import api_key_get, tenant_get
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
