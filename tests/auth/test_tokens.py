"""Local login tokens: well-signed claims of the wrong types are a 401, and a token holds only
while its user does (active, same password, still a member of the token's tenant)."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from evaapi.auth.models import TenantMembership
from tests.factories import client_for, tenant_make

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse 1"


@pytest.fixture
def member():
    tenant = tenant_make()
    user = get_user_model().objects.create_user(username=f"t{uuid.uuid4().hex[:8]}", password=PASSWORD)
    TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=["audit:read", "admin"])
    return tenant, user


def _token(username: str) -> str:
    response = client_for().post("/api/v1/auth/login", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()["access_token"]


def _signed(**claims) -> str:
    now = datetime.now(UTC)
    base = {"iss": "evaapi", "aud": "evaapi-local", "iat": now, "exp": now + timedelta(minutes=5), "pwd": "x"}
    return jwt.encode({**base, **claims}, settings.JWT_SECRET_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "user:1", "tid": ["a", "b"]},
        {"sub": "user:1", "tid": {"id": "a"}},
        {"sub": "user:1", "tid": ""},
        {"sub": "user:1", "tid": "t", "scopes": 7},
        {"sub": "user:1", "tid": "t", "scopes": [1, 2]},
        {"sub": ["user:1"], "tid": "t"},
        {"sub": "user:abc", "tid": "t"},
        {"sub": "user:1", "tid": "t", "pwd": 5},
    ],
)
def test_claims_of_the_wrong_types_are_401_not_500(claims):
    response = client_for(_signed(**claims)).get("/api/v1/audit-logs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_works_while_its_user_does(member):
    _, user = member
    assert client_for(_token(user.username)).get("/api/v1/audit-logs").status_code == 200


def test_deactivating_the_user_ends_its_tokens_at_once(member):
    _, user = member
    client = client_for(_token(user.username))
    user.is_active = False
    user.save()
    assert client.get("/api/v1/audit-logs").status_code == 401


def test_changing_the_password_ends_earlier_tokens(member):
    _, user = member
    old = client_for(_token(user.username))
    user.set_password("another horse 2")
    user.save()
    assert old.get("/api/v1/audit-logs").status_code == 401
    fresh = client_for().post("/api/v1/auth/login", {"username": user.username, "password": "another horse 2"},
                              format="json").json()["access_token"]
    assert client_for(fresh).get("/api/v1/audit-logs").status_code == 200


def test_removing_the_membership_ends_its_tokens(member):
    _, user = member
    client = client_for(_token(user.username))
    TenantMembership.objects.filter(user=user).delete()
    assert client.get("/api/v1/audit-logs").status_code == 401


def test_moving_the_user_to_another_tenant_ends_tokens_of_the_first(member):
    _, user = member
    client = client_for(_token(user.username))
    TenantMembership.objects.filter(user=user).update(tenant_id=tenant_make().id)
    assert client.get("/api/v1/audit-logs").status_code == 401


def test_scopes_taken_from_the_membership_are_taken_from_its_tokens(member):
    _, user = member
    client = client_for(_token(user.username))
    assert client.get("/api/v1/auth/api-keys").status_code == 200
    TenantMembership.objects.filter(user=user).update(scopes=["audit:read"])
    assert client.get("/api/v1/auth/api-keys").status_code == 403
    assert client.get("/api/v1/audit-logs").status_code == 200


def test_login_responses_are_not_cached(member):
    _, user = member
    response = client_for().post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD},
                                 format="json")
    assert response["Cache-Control"] == "no-store"
