"""Local login: Django users of a tenant get short-lived tokens; failures are limited per
username and per client IP, and a spoofed X-Forwarded-For does not escape the IP limit."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import audit_log_list
from tests.factories import client_for, tenant_make

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def member():
    tenant = tenant_make()
    user = get_user_model().objects.create_user(username=f"u{uuid.uuid4().hex[:8]}", password="correct horse 1")
    TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=["audit:read"])
    return tenant, user


def login(username, password, **extra):
    return client_for().post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def test_login_gives_a_token_that_works_with_the_members_scopes(member):
    tenant, user = member
    response = login(user.username, "correct horse 1")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    client = client_for(body["access_token"])
    assert client.get("/api/v1/audit-logs").status_code == 200
    assert client.get("/api/v1/auth/api-keys").status_code == 403  # no admin scope
    entries, _ = audit_log_list(tenant=tenant, filters={"action": "auth.login"}, limit=10, continuation=None)
    assert [(e.actor, e.outcome) for e in entries][:1] == [(f"user:{user.pk}", "success")]


def test_wrong_password_is_401_and_audited(member):
    tenant, user = member
    response = login(user.username, "wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="evaapi"'
    entries, _ = audit_log_list(tenant=tenant, filters={"action": "auth.login"}, limit=10, continuation=None)
    assert [e.outcome for e in entries] == ["failure"]
    assert entries[0].client_ip == "127.0.0.1"


def test_a_user_without_a_tenant_cannot_log_in():
    get_user_model().objects.create_user(username="loner", password="correct horse 1")
    assert login("loner", "correct horse 1").status_code == 401


@pytest.mark.parametrize("bad", [{}, {"username": "x"}, {"username": "", "password": "y"}])
def test_malformed_login_is_400(bad):
    assert client_for().post(LOGIN, bad, format="json").status_code == 400


def test_expired_and_foreign_tokens_are_401(member):
    tenant, user = member
    now = datetime.now(UTC)
    claims = {"iss": "evaapi", "aud": "evaapi-local", "sub": f"user:{user.pk}", "tid": tenant.id,
              "scopes": ["audit:read"], "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)}
    expired = jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + timedelta(minutes=5)}, "another-secret-" + "x" * 32, algorithm="HS256")
    for token in (expired, forged):
        response = client_for(token).get("/api/v1/audit-logs")
        assert response.status_code == 401
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


@override_settings(LOGIN_MAX_FAILURES=3)
def test_failures_are_limited_per_username(member):
    _, user = member
    codes = [login(user.username, "wrong", REMOTE_ADDR=f"10.9.0.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    # Even the right password waits now: the limit is checked before the password.
    blocked = login(user.username, "correct horse 1", REMOTE_ADDR="10.9.0.99")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_spoofed_forwarded_for_does_not_escape_the_ip_limit():
    peer = f"10.8.{uuid.uuid4().int % 250}.7"
    codes = [
        login(f"nobody{i}", "wrong", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_trusted_proxys_forwarded_for_is_the_client():
    proxy = f"10.7.{uuid.uuid4().int % 250}.1"
    with override_settings(TRUSTED_PROXIES=[proxy]):
        codes = [
            login(f"someone{i}", "wrong", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 401]  # four different clients, one failure each


@override_settings(LOCAL_LOGIN_ENABLED=False)
def test_login_can_be_switched_off(member):
    _, user = member
    assert login(user.username, "correct horse 1").status_code == 404
