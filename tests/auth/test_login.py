"""Local login: Django users of a tenant get short-lived tokens; failures are limited per
username and per client IP, and a spoofed X-Forwarded-For does not escape the IP limit."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from evaapi.auth.models import TenantMembership
from evaapi.auth.selectors import audit_log_list
from evaapi.redis import redis_client
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


def test_a_user_without_a_tenant_gets_no_token():
    get_user_model().objects.create_user(username="loner", password="correct horse 1")
    response = login("loner", "correct horse 1")
    assert response.status_code == 403
    assert "access_token" not in response.json()


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
def test_failures_are_limited_per_username_and_address(member):
    _, user = member
    codes = [login(user.username, "wrong", REMOTE_ADDR="10.9.0.1").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # Even the right password waits there: the limit is checked before the password.
    blocked = login(user.username, "correct horse 1", REMOTE_ADDR="10.9.0.1")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    # ... but only there: the owner, elsewhere, is not locked out by someone else's failures.
    assert login(user.username, "correct horse 1", REMOTE_ADDR="10.9.0.2").status_code == 200


def test_failures_from_many_addresses_do_not_lock_the_owner_out(member):
    _, user = member
    codes = [login(user.username, "wrong", REMOTE_ADDR=f"10.6.0.{i}").status_code for i in range(5)]
    assert codes == [401] * 5
    assert login(user.username, "correct horse 1", REMOTE_ADDR="10.6.0.99").status_code == 200


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_MAX_FAILURES_PER_USERNAME=4)
def test_a_distributed_guess_ends_at_the_per_username_ceiling(member):
    _, user = member
    codes = [login(user.username, "wrong", REMOTE_ADDR=f"10.5.0.{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    assert login(user.username, "correct horse 1", REMOTE_ADDR="10.5.0.200").status_code == 429


@override_settings(LOGIN_MAX_FAILURES=2)
def test_clients_without_a_readable_address_do_not_share_one_bucket(member):
    _, user = member
    for _ in range(3):
        assert login(user.username, "wrong", REMOTE_ADDR="unix:/run/socket").status_code == 401
    assert login(user.username, "correct horse 1", REMOTE_ADDR="").status_code == 200


def test_a_failure_counter_is_created_with_its_expiry_in_one_transaction(member):
    """INCR and EXPIRE apart would leave a counter without expiry (a lockout for ever) when the
    process dies between them; both go in one MULTI/EXEC."""
    _, user = member
    commands = []
    with redis_client().monitor() as monitor:
        reader = threading.Thread(target=lambda: commands.extend(_monitored(monitor, until="EXEC")), daemon=True)
        reader.start()
        login(user.username, "wrong", REMOTE_ADDR="10.4.0.1")
        reader.join(timeout=5)
    names = [c.split()[0].upper() for c in commands]
    assert names[0] == "MULTI"
    assert names[-1] == "EXEC"
    assert "EXPIRE" not in names
    assert names[1:-1] == ["SET", "INCRBY"] * 2
    sets = [c for c in commands if c.upper().startswith("SET ")]
    assert all(" NX" in c.upper() and " EX " in c.upper() for c in sets)
    for key in redis_client().scan_iter(f"login:fail:*{user.username}*"):
        assert redis_client().ttl(key) > 0


def _monitored(monitor, *, until: str):
    for entry in monitor.listen():
        command = entry["command"]
        if command.upper().startswith(("MULTI", "SET ", "INCR", "EXEC", "EXPIRE")):
            yield command
        if command.upper().startswith(until):
            return


def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit():
    peer = f"10.8.{uuid.uuid4().int % 250}.7"
    with override_settings(RATE_LIMIT_UNAUTHENTICATED="1/3"):
        codes = [
            login(f"nobody{i}", "wrong", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def test_a_trusted_proxys_forwarded_for_is_the_client():
    proxy = f"10.7.{uuid.uuid4().int % 250}.1"
    with override_settings(TRUSTED_PROXIES=[proxy], RATE_LIMIT_UNAUTHENTICATED="1/3"):
        codes = [
            login(f"someone{i}", "wrong", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 401]  # four different clients, one failure each


@override_settings(LOCAL_LOGIN_ENABLED=False)
def test_login_can_be_switched_off(member):
    _, user = member
    assert login(user.username, "correct horse 1").status_code == 404
