"""Entra ID tokens through the API: the directory's tenant gets in with the token's scopes;
every bad token is a 401 with WWW-Authenticate."""

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import override_settings

from evaapi.auth.selectors import tenant_get
from evaapi.auth.services.tenants import tenant_create
from evaapi.exceptions import ResourceNotFound
from tests.auth.jwks_server import TENANT_ID, claims_default, mint, rsa_key, token_by_hand
from tests.factories import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("entra_settings")]


@pytest.fixture
def directory_tenant():
    try:
        return tenant_get(tenant_id=TENANT_ID)
    except ResourceNotFound:
        return tenant_create(name="Contoso", tier="enterprise", tenant_id=TENANT_ID)


def good(overrides=None, **options):
    return mint(overrides, key=rsa_key("primary"), kid="key-1", **options)


def test_a_valid_token_gets_in_with_its_scopes(directory_tenant):
    client = client_for(good({"scp": "audit.read"}))
    assert client.get("/api/v1/audit-logs").status_code == 200
    assert client.get("/api/v1/auth/api-keys").status_code == 403


def test_a_directory_without_a_tenant_is_401(directory_tenant):
    other = "11111111-2222-3333-4444-555555555555"
    with override_settings(ENTRA_ALLOWED_TENANT_IDS=[TENANT_ID, other]):
        token = good({"tid": other, "iss": f"https://login.microsoftonline.com/{other}/v2.0", "scp": "audit.read"})
        response = client_for(token).get("/api/v1/audit-logs")
    assert response.status_code == 401


def _public_pem():
    return rsa_key("primary").public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


BAD_TOKENS = {
    "foreign key": lambda: mint({"scp": "audit.read"}, key=rsa_key("intruder"), kid="key-1"),
    "foreign issuer": lambda: good({"iss": "https://evil.example.com/v2.0", "scp": "audit.read"}),
    "wrong audience": lambda: good({"aud": "api://someone-else", "scp": "audit.read"}),
    "expired": lambda: good({"exp": claims_default()["iat"] - 600, "scp": "audit.read"}),
    "alg none": lambda: token_by_hand({"alg": "none", "typ": "JWT", "kid": "key-1"}, claims_default()),
    "HS256 keyed with the public key": lambda: token_by_hand(
        {"alg": "HS256", "typ": "JWT", "kid": "key-1"}, claims_default(), hmac_secret=_public_pem()
    ),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_bad_tokens_are_401_with_www_authenticate(directory_tenant, case):
    response = client_for(BAD_TOKENS[case]()).get("/api/v1/audit-logs")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="evaapi", error="invalid_token"'
    assert response.json()["error"]["code"] == "unauthenticated"
