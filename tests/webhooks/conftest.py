import pytest

from evaapi.redis import redis_client
from tests.factories import api_key_make, client_for, tenant_make
from tests.webhooks.attempts import SCHEDULE
from tests.webhooks.signed_receiver import SignedReceiver
from webhooks.services import DUE_QUEUE


@pytest.fixture
def receiver():
    server = SignedReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def setup(deployment, receiver, settings):
    """A tenant with an endpoint on the local receiver (allowed as a target), and its client."""
    settings.WEBHOOK_ALLOWED_TARGETS = ["127.0.0.0/8"]
    settings.WEBHOOK_RETRY_SCHEDULE = [str(step) for step in SCHEDULE]
    redis_client().delete(DUE_QUEUE)
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    created = client.post("/api/v1/webhooks", {"url": receiver.url, "event_types": ["space.*", "document.added"]},
                          format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert created["Cache-Control"] == "no-store"
    receiver.secrets = [body["secret"]]
    return tenant, client, body
