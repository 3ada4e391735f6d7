"""The admin's login form has the API login's lockout and audit trail."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import audit_log_list
from tests.factories import tenant_make

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse 1"


@pytest.fixture
def operator():
    tenant = tenant_make()
    user = get_user_model().objects.create_user(username=f"op{uuid.uuid4().hex[:8]}", password=PASSWORD,
                                                is_staff=True, is_superuser=True)
    TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=[])
    return tenant, user


def _admin_login(client: Client, username: str, password: str, address: str = "10.3.0.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _logged_in(client: Client) -> bool:
    return client.get("/admin/", REMOTE_ADDR="10.3.0.1").status_code == 200


@override_settings(LOGIN_MAX_FAILURES=5)
def test_repeated_wrong_passwords_lock_the_admin_login(operator):
    _, user = operator
    client = Client()
    for _ in range(30):
        assert _admin_login(client, user.username, "wrong").status_code == 200  # the form again
    response = _admin_login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed logins" in response.content
    assert not _logged_in(client)
    # From another address, the owner still gets in.
    assert _admin_login(client, user.username, PASSWORD, address="10.3.0.2").status_code == 302
    assert _logged_in(client)


def test_admin_logins_are_audited(operator):
    tenant, user = operator
    client = Client()
    _admin_login(client, user.username, "wrong")
    _admin_login(client, user.username, PASSWORD)
    entries, _ = audit_log_list(tenant=tenant, filters={"action": "admin.login"}, limit=10, continuation=None)
    assert [(e.outcome, e.client_ip) for e in entries] == [("success", "10.3.0.1"), ("failure", "10.3.0.1")]
    assert entries[0].actor == f"user:{user.pk}"
