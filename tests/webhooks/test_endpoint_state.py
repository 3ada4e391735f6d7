"""A delivery is due only while its endpoint can take it. Pausing or disabling an endpoint parks its
open deliveries (kept, with no next attempt) until it is enabled, when they are due at once;
deleting it closes them. The sweeper pages past whatever it cannot push (and parks or closes it on
the way), so one tenant's stuck deliveries never keep another tenant's retries waiting. A dead
letter, retry or recovery of a deleted endpoint is a 404."""

import json
import uuid
from datetime import timedelta

import pytest

from evaapi.redis import redis_client
from evaapi.times import iso, utc_now
from spaces.services import space_create
from tests.factories import api_key_make, client_for, tenant_make
from tests.webhooks.attempts import claim_one, deliveries_of, record_one
from webhooks import repositories
from webhooks.domain import Delivery, DeliveryStatus
from webhooks.sender import SendResult
from webhooks.services import DUE_QUEUE, ENDPOINT_DELETED, deliveries_due_push, delivery_id_for

pytestmark = pytest.mark.django_db
SWEEP_LIMIT = 500  # deliveries_due_push's default: one status's page held no more


def _queued() -> list[str]:
    return [entry.decode() for entry in redis_client().lrange(DUE_QUEUE, 0, -1)]


def _retries_due(tenant_id: str, webhook_id: str, count: int, due_at) -> None:
    """`count` deliveries of the endpoint whose first attempt failed and whose retry is due at
    `due_at`, as the fan-out and the worker leave them in the store."""
    for _ in range(count):
        event_id = str(uuid.uuid4())
        at = iso(due_at - timedelta(seconds=5))
        repositories.delivery_insert(repositories.delivery_item(Delivery(
            id=delivery_id_for(event_id=event_id, webhook_id=webhook_id), tenant_id=tenant_id, webhook_id=webhook_id,
            event_id=event_id, event_type="webhook.test", space_id=None,
            body=json.dumps({"id": event_id, "type": "webhook.test"}), status=DeliveryStatus.RETRYING,
            attempt_count=1, next_attempt_at=iso(due_at), created_at=at, updated_at=at, last_status_code=500,
        )))


@pytest.fixture
def crowd():
    """Another tenant, with an endpoint holding more retries, all due, than the sweeper reads in a
    page; and that tenant's client."""
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    endpoint = client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/down", "event_types": ["*"]},
                           format="json").json()
    _retries_due(tenant.id, endpoint["id"], SWEEP_LIMIT + 5, due_at=utc_now() - timedelta(minutes=1))
    return tenant, client, endpoint


def _retry_due(tenant, endpoint) -> tuple[str, object]:
    """A delivery to `endpoint` whose first attempt just failed; its id, and a time its retry is due."""
    space_create(tenant=tenant, actor="test", name="Retried")
    (delivery,) = deliveries_of(endpoint["id"])
    now = utc_now()
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=now)
    assert record_one(claimed, SendResult(status_code=500), now=now).status == "retrying"
    return delivery.id, now + timedelta(hours=1)


def test_a_paused_endpoints_deliveries_wait_without_holding_up_another_tenants_retry(setup, crowd):
    tenant, _, endpoint = setup
    _, crowd_client, paused = crowd
    response = crowd_client.patch(f"/api/v1/webhooks/{paused['id']}", {"active": False}, format="json")
    assert response.status_code == 200
    delivery_id, later = _retry_due(tenant, endpoint)
    redis_client().delete(DUE_QUEUE)

    assert deliveries_due_push(now=later) == 1
    assert _queued() == [f"{endpoint['id']} {delivery_id}"]
    # Parked: still retrying, their attempts kept, and no next attempt while the endpoint is paused.
    parked = crowd_client.get(f"/api/v1/webhooks/{paused['id']}/deliveries", {"limit": 100}).json()["items"]
    assert {(d["status"], d["attempt_count"], d["next_attempt_at"]) for d in parked} == {("retrying", 1, None)}

    # Enabled again: every one is due at once, and queued.
    redis_client().delete(DUE_QUEUE)
    assert crowd_client.patch(f"/api/v1/webhooks/{paused['id']}", {"active": True}, format="json").status_code == 200
    assert sorted(_queued()) == sorted(f"{paused['id']} {d.id}" for d in deliveries_of(paused["id"], limit=1000))
    assert len(_queued()) == SWEEP_LIMIT + 5
    resumed = crowd_client.get(f"/api/v1/webhooks/{paused['id']}/deliveries", {"limit": 100}).json()["items"]
    assert all(d["status"] == "retrying" and d["next_attempt_at"] is not None for d in resumed)


@pytest.mark.parametrize("gone", ["disabled", "deleted"])
def test_the_sweeper_pages_past_deliveries_it_cannot_push_and_settles_them(setup, crowd, gone):
    """Deliveries left due at an endpoint that cannot take them (by an attempt in flight while it
    was disabled or deleted, or before endpoints parked their deliveries): the sweeper pushes the
    other tenant's retry all the same, and parks or closes them, so it never reads them again."""
    tenant, _, endpoint = setup
    crowd_tenant, _, stuck = crowd
    item = repositories.endpoint_item_read(tenant_id=crowd_tenant.id, webhook_id=stuck["id"])
    if gone == "disabled":  # as the store holds it, without the service that parks its deliveries
        repositories.endpoint_replace({**item, "active": False, "disabled_reason": "The endpoint answered 410 Gone."},
                                      etag=item["_etag"])
    else:
        repositories.endpoint_delete(tenant_id=crowd_tenant.id, webhook_id=stuck["id"])
    delivery_id, later = _retry_due(tenant, endpoint)
    redis_client().delete(DUE_QUEUE)

    assert deliveries_due_push(now=later) == 1
    assert _queued() == [f"{endpoint['id']} {delivery_id}"]
    settled = deliveries_of(stuck["id"], limit=1000)
    if gone == "disabled":
        assert {(d.status, d.attempt_count, d.next_attempt_at) for d in settled} == {("retrying", 1, None)}
    else:
        assert {(d.status, d.last_error) for d in settled} == {("dead", ENDPOINT_DELETED)}
    redis_client().delete(DUE_QUEUE)
    assert deliveries_due_push(now=later) == 1  # the retry again (not claimed meanwhile), and nothing else
    assert _queued() == [f"{endpoint['id']} {delivery_id}"]


def test_deleting_an_endpoint_closes_its_open_deliveries(setup, crowd):
    _, crowd_client, doomed = crowd
    assert crowd_client.delete(f"/api/v1/webhooks/{doomed['id']}").status_code == 204
    closed = deliveries_of(doomed["id"], limit=1000)
    assert len(closed) == SWEEP_LIMIT + 5
    assert {(d.status, d.last_error) for d in closed} == {("dead", ENDPOINT_DELETED)}
    assert deliveries_due_push(now=utc_now() + timedelta(days=1)) == 0


def _dead_letter(tenant, client, endpoint) -> tuple[str, str]:
    """A delivery to the endpoint that its 410 made dead (disabling the endpoint); the delivery's and
    its dead letter's ids."""
    space_create(tenant=tenant, actor="test", name="Gone")
    (delivery,) = deliveries_of(endpoint["id"])
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    assert record_one(claimed, SendResult(status_code=410)).status == "dead"
    (letter,) = client.get("/api/v1/webhooks/dead-letters").json()["items"]
    redis_client().delete(DUE_QUEUE)
    return delivery.id, letter["id"]


def test_a_replay_waits_while_the_endpoint_is_disabled(setup):
    tenant, client, endpoint = setup
    delivery_id, letter_id = _dead_letter(tenant, client, endpoint)
    replayed = client.post(f"/api/v1/webhooks/dead-letters/{letter_id}/replay")
    assert replayed.status_code == 202
    assert (replayed.json()["status"], replayed.json()["next_attempt_at"]) == ("pending", None)
    assert _queued() == []
    assert deliveries_due_push(now=utc_now() + timedelta(days=1)) == 0
    # Enabling the endpoint queues it.
    client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"active": True}, format="json")
    assert _queued() == [f"{endpoint['id']} {delivery_id}"]
    assert claim_one(webhook_id=endpoint["id"], delivery_id=delivery_id) is not None


def test_a_deleted_endpoints_dead_letter_retry_and_recovery_are_404(setup):
    """Nowhere to send them: they are refused, and nothing is reopened."""
    tenant, client, endpoint = setup
    delivery_id, letter_id = _dead_letter(tenant, client, endpoint)
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 204
    for path, body in [(f"/api/v1/webhooks/dead-letters/{letter_id}/replay", None),
                       (f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery_id}/retry", None),
                       (f"/api/v1/webhooks/{endpoint['id']}/recover", {"since": "2026-01-01T00:00:00Z"})]:
        response = client.post(path, body, format="json")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found"), path
    assert deliveries_of(endpoint["id"])[0].status == "dead"
    assert _queued() == []
    assert client.get("/api/v1/webhooks/dead-letters").json()["items"][0]["replayed_at"] is None
