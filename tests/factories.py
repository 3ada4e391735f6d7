"""Tenants, API keys and clients for API tests, made through the real services."""

import uuid

from rest_framework.test import APIClient

from evaapi.auth.scopes import ALL_SCOPES
from evaapi.auth.services.api_keys import api_key_create
from evaapi.auth.services.tenants import tenant_create


def tenant_make(tier: str = "enterprise"):
    # Enterprise (unlimited) by default so only the rate-limit tests meet a limit.
    return tenant_create(name=f"tenant {uuid.uuid4().hex[:6]}", tier=tier)


def api_key_make(tenant, scopes=ALL_SCOPES, **options) -> str:
    _, secret = api_key_create(tenant=tenant, actor="test", name="test key", scopes=scopes, **options)
    return secret


def client_for(secret: str | None = None, *, header: str = "bearer", **defaults) -> APIClient:
    client = APIClient(**defaults)
    if secret is not None and header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    elif secret is not None:
        client.credentials(HTTP_X_API_KEY=secret)
    return client
