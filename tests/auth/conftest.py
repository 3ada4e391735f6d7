import time

import pytest
from django.test import override_settings

from evaapi.auth import entra
from tests.auth.jwks_server import AUDIENCE, TENANT_ID, JwksServer, rsa_key


@pytest.fixture
def jwks_server():
    """A running JWKS server publishing `rsa_key("primary")` as kid `key-1`."""
    server = JwksServer()
    server.key_add("key-1", rsa_key("primary"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def entra_settings(jwks_server):
    """Entra ID configured against the local server, with an empty key cache before and after."""
    entra._reset_cache()
    with override_settings(
        ENTRA_AUTHORITY=jwks_server.url,
        ENTRA_JWKS_URL="",
        ENTRA_AUDIENCE=AUDIENCE,
        ENTRA_ALLOWED_ISSUERS=[],
        ENTRA_ALLOWED_TENANT_IDS=[TENANT_ID],
        ENTRA_LEEWAY_SECONDS=60,
    ):
        yield jwks_server
    entra._reset_cache()


class FakeClock:
    def __init__(self):
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def keys_clock(monkeypatch):
    """The key cache's clock, moved by hand to pass the once-a-minute refresh limit."""
    clock = FakeClock()
    monkeypatch.setattr(entra._signing_keys, "clock", clock)
    return clock
