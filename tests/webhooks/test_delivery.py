"""Webhook delivery end to end: events fanned out to endpoints, signed, sent by the worker to a
real receiver that verifies every signature; the retry schedule under a controllable clock; 410;
dead letters and replay; recovery; rotation; a killed worker and a flushed Redis lose nothing;
two claims of one attempt send it once."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest

from evaapi.events.selectors import event_list
from evaapi.redis import redis_client
from evaapi.times import parse_iso, utc_now
from spaces.services import space_create
from tests.factories import api_key_make, client_for, tenant_make
from tests.webhooks.attempts import SCHEDULE, claim_one, deliver, deliveries_of, record_one, send_one
from tests.webhooks.signed_receiver import Answer
from webhooks import repositories
from webhooks.services import DUE_QUEUE, deliveries_due_push

pytestmark = pytest.mark.django_db
PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_an_event_reaches_the_endpoint_signed_and_is_logged(setup, receiver):
    tenant, client, endpoint = setup
    space = space_create(tenant=tenant, actor="test", name="Hooked")
    (request,) = deliver(1, receiver)
    assert request.verified_with == (endpoint["secret"],)
    event = json.loads(request.body)
    assert (event["type"], event["data"]["space_id"]) == ("space.created", space.id)
    (delivery,) = deliveries_of(endpoint["id"])
    assert request.headers["webhook-id"] == delivery.id
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("succeeded", 1, 200)
    logs = client.get(f"/api/v1/webhooks/{endpoint['id']}/logs").json()["items"]
    assert [(log["attempt"], log["status"], log["status_code"]) for log in logs] == [(1, "succeeded", 200)]
    assert logs[0]["request_headers"]["webhook-signature"] == "[redacted]"
    stats = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (stats["successes"], stats["failures"], stats["consecutive_failures"]) == (1, 0, 0)


def test_the_worker_claims_and_records_a_backlog_in_batches(setup, receiver):
    """Twenty-five deliveries queued before the worker starts: it pops them together, claims
    them in one batch and records them in batches; each is sent once, signed, and counted."""
    from evaapi.store.metrics import count_store_calls

    tenant, client, endpoint = setup
    for n in range(25):
        space_create(tenant=tenant, actor="test", name=f"Backlog {n}")
    assert redis_client().llen(DUE_QUEUE) == 25
    with count_store_calls() as calls:
        requests = deliver(25, receiver)
    assert len({r.headers["webhook-id"] for r in requests}) == 25
    assert all(r.verified_with == (endpoint["secret"],) for r in requests)
    assert {d.status for d in deliveries_of(endpoint["id"])} == {"succeeded"}
    stats = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (stats["successes"], stats["failures"]) == (25, 0)
    # One claim batch for the 25, and fewer record steps than attempts (each step: one patch).
    assert calls.by_operation["query"] == 1
    assert calls.by_operation["patch"] < 25
    assert len(client.get(f"/api/v1/webhooks/{endpoint['id']}/logs", {"limit": 100}).json()["items"]) == 25


def test_events_an_endpoint_did_not_ask_for_are_not_sent(setup, receiver):
    tenant, client, endpoint = setup
    client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"event_types": ["document.added"]}, format="json")
    space_create(tenant=tenant, actor="test", name="Ignored")
    assert deliveries_of(endpoint["id"]) == []


def test_the_retry_schedule_runs_to_a_dead_letter_that_replays(setup, receiver):
    """Under a controllable clock: each attempt is claimable only once its time has come."""
    tenant, client, endpoint = setup
    receiver.answer(Answer(status=500))
    receiver.check_timestamp = False  # its clock is moved on by hours below
    space_create(tenant=tenant, actor="test", name="Failing")
    (delivery,) = deliveries_of(endpoint["id"])
    now = utc_now()
    sent = []

    def attempt(at):
        claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=at)
        if claimed is None:
            return None
        result = asyncio.run(send_one(claimed))
        sent.append(at)
        return record_one(claimed, result, now=at)

    for number, step in enumerate(SCHEDULE):
        if step:
            # Not yet: just before the earliest its jitter allows.
            assert attempt(now + timedelta(seconds=step * 0.89)) is None
        now += timedelta(seconds=step * 1.11)
        result = attempt(now)
        assert result.attempt_count == number + 1
    assert result.status == "dead"
    assert [r.verified_with for r in receiver.wait_for(len(SCHEDULE))] == [(endpoint["secret"],)] * len(SCHEDULE)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, several attempts
    letters = client.get("/api/v1/webhooks/dead-letters").json()["items"]
    assert [(e["delivery_id"], e["attempt_count"], e["last_status_code"]) for e in letters] == [
        (delivery.id, len(SCHEDULE), 500)]
    # Replay: due again now; the receiver is back.
    receiver.answer(Answer(status=200))
    replayed = client.post(f"/api/v1/webhooks/dead-letters/{letters[0]['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["status"] == "pending"
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    assert record_one(claimed, asyncio.run(send_one(claimed))).status == "succeeded"
    assert client.get("/api/v1/webhooks/dead-letters").json()["items"][0]["replayed_at"] is not None


def test_410_disables_the_endpoint_at_once_with_an_event(setup, receiver):
    tenant, client, endpoint = setup
    receiver.answer(Answer(status=410))
    space_create(tenant=tenant, actor="test", name="Gone")
    (delivery,) = deliveries_of(endpoint["id"])
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    assert record_one(claimed, asyncio.run(send_one(claimed))).status == "dead"
    body = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert body["active"] is False
    assert "410" in body["disabled_reason"]
    events, _ = event_list(tenant=tenant, type_patterns=["webhook.disabled"], limit=10, continuation=None)
    assert [e.data["webhook_id"] for e in events] == [endpoint["id"]]
    # Enabled again by hand, it takes deliveries again.
    assert client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"active": True}, format="json").json()[
        "disabled_reason"] is None


def test_retry_after_is_honoured_within_bounds(setup, receiver):
    tenant, _, endpoint = setup
    receiver.answer(Answer(status=429, headers={"Retry-After": "3600"}))
    space_create(tenant=tenant, actor="test", name="Busy")
    (delivery,) = deliveries_of(endpoint["id"])
    now = utc_now()
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=now)
    retrying = record_one(claimed, asyncio.run(send_one(claimed)), now=now)
    assert retrying.status == "retrying"
    assert parse_iso(retrying.next_attempt_at) - now >= timedelta(seconds=3600)


def test_an_endpoint_failing_for_days_is_disabled(setup, receiver):
    tenant, client, endpoint = setup
    receiver.answer(Answer(status=500))
    space_create(tenant=tenant, actor="test", name="Down")
    (delivery,) = deliveries_of(endpoint["id"])
    now = utc_now()
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=now)
    record_one(claimed, asyncio.run(send_one(claimed)), now=now)
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}").json()["active"] is True
    later = now + timedelta(days=5, seconds=SCHEDULE[1] * 2)
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=later)
    record_one(claimed, asyncio.run(send_one(claimed)), now=later)
    body = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (body["active"], body["consecutive_failures"]) == (False, 2)
    assert "5" in body["disabled_reason"]


def test_two_claims_of_one_attempt_send_it_once(setup, receiver):
    tenant, _, endpoint = setup
    space_create(tenant=tenant, actor="test", name="Twice")
    (delivery,) = deliveries_of(endpoint["id"])
    for _ in range(3):  # what two sweepers and the fan-out would push
        redis_client().rpush(DUE_QUEUE, f"{endpoint['id']} {delivery.id}")
    deliver(1, receiver)
    # The worker has stopped and drained its attempts: nothing more can arrive.
    assert len(receiver.requests) == 1
    assert deliveries_of(endpoint["id"])[0].attempt_count == 1


def test_the_test_endpoint_sends_a_webhook_test_event_to_that_endpoint_only(setup, receiver):
    _, client, endpoint = setup
    other = client.post("/api/v1/webhooks", {"url": receiver.url, "event_types": ["*"]}, format="json").json()
    response = client.post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert response.status_code == 202
    (request,) = deliver(1, receiver)
    assert json.loads(request.body)["type"] == "webhook.test"
    assert request.headers["webhook-id"] == response.json()["delivery_id"]
    listed = client.get(response["Location"]).json()["items"]  # where the test delivery is followed
    assert response.json()["delivery_id"] in [delivery["id"] for delivery in listed]
    assert deliveries_of(other["id"]) == []
    # A disabled endpoint gets no deliveries, so testing it is refused rather than answered with
    # the id of a delivery that would never exist.
    client.patch(f"/api/v1/webhooks/{other['id']}", {"active": False}, format="json")
    refused = client.post(f"/api/v1/webhooks/{other['id']}/test")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"active": False}


def test_rotation_signs_with_both_secrets_in_the_grace_period(setup, receiver):
    tenant, client, endpoint = setup
    rotated = client.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", {"grace_hours": 1}, format="json")
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    receiver.secrets = [endpoint["secret"], new_secret]
    space_create(tenant=tenant, actor="test", name="Rotated")
    (request,) = deliver(1, receiver)
    assert set(request.verified_with) == {endpoint["secret"], new_secret}
    assert len(request.headers["webhook-signature"].split(" ")) == 2


def test_after_the_grace_period_only_the_new_secret_signs(setup, receiver):
    tenant, client, endpoint = setup
    new_secret = client.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", {"grace_hours": 0},
                             format="json").json()["secret"]
    space_create(tenant=tenant, actor="test", name="Rotated late")
    (delivery,) = deliveries_of(endpoint["id"])
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    receiver.secrets = [endpoint["secret"], new_secret]
    asyncio.run(send_one(claimed))
    assert receiver.wait_for(1)[0].verified_with == (new_secret,)


def test_a_flushed_redis_loses_no_delivery(setup, receiver):
    tenant, _, endpoint = setup
    receiver.answer(Answer(status=503))
    space_create(tenant=tenant, actor="test", name="Flushed")
    (delivery,) = deliveries_of(endpoint["id"])
    now = utc_now()
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=now)
    record_one(claimed, asyncio.run(send_one(claimed)), now=now)
    redis_client().flushdb()  # the queue, and anything else Redis held, is gone mid-schedule
    receiver.answer(Answer(status=200))
    later = now + timedelta(seconds=SCHEDULE[1] * 2)
    assert deliveries_due_push(now=later) == 1  # the store is the truth: the sweeper finds it
    webhook_id, delivery_id = redis_client().lpop(DUE_QUEUE).decode().split(" ")
    claimed = claim_one(webhook_id=webhook_id, delivery_id=delivery_id, now=later)
    assert record_one(claimed, asyncio.run(send_one(claimed)), now=later).status == "succeeded"
    django_rq.get_queue("default").empty()


def test_a_worker_killed_mid_delivery_loses_nothing(setup, receiver, deployment):
    """The worker process is killed while the receiver holds its request; its lease runs out and
    the delivery is sent again (same webhook-id) and succeeds."""
    tenant, _, endpoint = setup
    receiver.answer(Answer(status=200, delay=30), Answer(status=200))
    env = {**os.environ, **deployment, "WEBHOOK_ALLOWED_TARGETS": "127.0.0.0/8"}
    worker = subprocess.Popen([sys.executable, "manage.py", "webhooks_worker"], cwd=PROJECT_DIR, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        space_create(tenant=tenant, actor="test", name="Killed")
        receiver.wait_for(1)  # the attempt reached the receiver, which holds it
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    (delivery,) = deliveries_of(endpoint["id"])
    assert (delivery.status, delivery.attempt_count) == ("pending", 1)
    assert delivery.lease_until is not None
    after_lease = parse_iso(delivery.lease_until) + timedelta(seconds=1)
    assert deliveries_due_push(now=after_lease) == 1
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id, now=after_lease)
    assert record_one(claimed, asyncio.run(send_one(claimed)), now=after_lease).status == "succeeded"
    requests = receiver.wait_for(2)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"] == delivery.id


def test_recover_sends_again_the_dead_deliveries_of_a_window(setup, receiver):
    tenant, client, endpoint = setup
    receiver.answer(Answer(status=410))
    started = utc_now()
    space_create(tenant=tenant, actor="test", name="Lost")
    (delivery,) = deliveries_of(endpoint["id"])
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    record_one(claimed, asyncio.run(send_one(claimed)))
    client.patch(f"/api/v1/webhooks/{endpoint['id']}", {"active": True}, format="json")
    response = client.post(f"/api/v1/webhooks/{endpoint['id']}/recover",
                           {"since": (started - timedelta(minutes=1)).isoformat()}, format="json")
    assert response.json() == {"deliveries": 1}
    assert deliveries_of(endpoint["id"])[0].status == "pending"
    later = client.post(f"/api/v1/webhooks/{endpoint['id']}/recover", {"since": utc_now().isoformat()},
                        format="json")
    assert later.json() == {"deliveries": 0}


def test_loopback_targets_are_refused_unless_allowed(deployment, receiver, settings):
    settings.WEBHOOK_ALLOWED_TARGETS = []
    tenant = tenant_make()
    client = client_for(api_key_make(tenant))
    # A literal loopback address is refused when registered; a name is checked where it matters,
    # at connect time, against the addresses it resolves to then (DNS rebinding cannot pass).
    assert client.post("/api/v1/webhooks", {"url": receiver.url, "event_types": ["*"]},
                       format="json").status_code == 400
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    endpoint = client.post("/api/v1/webhooks", {"url": by_name, "event_types": ["*"]}, format="json").json()
    space_create(tenant=tenant, actor="test", name="Internal")
    (delivery,) = deliveries_of(endpoint["id"])
    claimed = claim_one(webhook_id=endpoint["id"], delivery_id=delivery.id)
    assert record_one(claimed, asyncio.run(send_one(claimed))).status == "retrying"
    (log,) = client.get(f"/api/v1/webhooks/{endpoint['id']}/logs").json()["items"]
    assert (log["status"], log["error_class"], log["status_code"]) == ("failed", "refused_address", None)
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"url": "ftp://example.com/x", "event_types": ["*"]}, "url"),
     ({"url": "https://example.com/x", "event_types": ["space.exploded"]}, "event_types"),
     ({"url": "https://example.com/x", "event_types": []}, "event_types"),
     ({"url": "https://10.0.0.1/x", "event_types": ["*"]}, "url"),
     ({"url": "http://127.0.0.1./x", "event_types": ["*"]}, "url"),
     ({"url": "https://user:pw@example.com/x", "event_types": ["*"]}, "url")],
)
def test_invalid_endpoints_are_400(admin_client, body, field):
    response = admin_client.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_another_tenants_webhook_things_are_404(setup, receiver):
    tenant, client, endpoint = setup
    space_create(tenant=tenant, actor="test", name="Theirs")
    (delivery,) = deliveries_of(endpoint["id"])
    stranger = client_for(api_key_make(tenant_make()))
    for method, path in [
        ("get", f"/api/v1/webhooks/{endpoint['id']}"), ("patch", f"/api/v1/webhooks/{endpoint['id']}"),
        ("delete", f"/api/v1/webhooks/{endpoint['id']}"), ("get", f"/api/v1/webhooks/{endpoint['id']}/logs"),
        ("get", f"/api/v1/webhooks/{endpoint['id']}/deliveries"),
        ("post", f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery.id}/retry"),
        ("post", f"/api/v1/webhooks/{endpoint['id']}/test"),
        ("post", f"/api/v1/webhooks/{endpoint['id']}/rotate-secret"),
        ("post", f"/api/v1/webhooks/{endpoint['id']}/recover"),
    ]:
        body = {"description": "x"} if method == "patch" else ({"since": "2026-01-01T00:00:00Z"}
                                                                if path.endswith("recover") else None)
        response = getattr(stranger, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.content)
    assert stranger.get("/api/v1/webhooks/dead-letters").json()["items"] == []
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}").status_code == 200  # untouched


def test_endpoint_stats_lose_no_update_under_concurrent_attempts(setup):
    import threading

    tenant, client, endpoint = setup
    at = utc_now().isoformat()
    # Twenty workers' batches at once, each with 1 or 2 successes and 3 failures.
    threads = [threading.Thread(target=repositories.endpoint_stats_record, kwargs={
        "tenant_id": tenant.id, "webhook_id": endpoint["id"], "successes": 1 + n % 2, "failures": 3,
        "trailing_failures": 3, "at": at, "failing_since": at}) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (stats["successes"], stats["failures"], stats["consecutive_failures"]) == (30, 60, 3)


def _space_deliveries(tenant, endpoint, count: int) -> list:
    for n in range(count):
        space_create(tenant=tenant, actor="test", name=f"Batch {n}")
    deliveries = deliveries_of(endpoint["id"])
    assert len(deliveries) == count
    return deliveries


def test_a_batch_of_attempts_is_claimed_once_and_counted_in_order(setup, receiver):
    """The worker's batches: one claim takes only what is due, a second takes nothing; the
    recorded outcomes land on each delivery, and the stats follow their order (the streak is
    the failures after the last success)."""
    from webhooks.sender import SendResult
    from webhooks.services import attempts_record, deliveries_claim

    tenant, client, endpoint = setup
    deliveries = _space_deliveries(tenant, endpoint, 4)
    ids = [d.id for d in deliveries]
    now = utc_now()
    first = claim_one(webhook_id=endpoint["id"], delivery_id=ids[0], now=now)
    # One of them held by another worker's lease, one unknown id, one repeated.
    claimed = deliveries_claim(webhook_id=endpoint["id"], delivery_ids=[*ids, ids[1], "msg_unknown"], now=now)
    assert sorted(c.item["id"] for c in claimed) == sorted(ids[1:])
    assert deliveries_claim(webhook_id=endpoint["id"], delivery_ids=ids, now=now) == []
    results = [SendResult(status_code=500), SendResult(status_code=200), SendResult(status_code=500),
               SendResult(status_code=503)]
    recorded = attempts_record(list(zip([first, *claimed], results, strict=True)), now=now)
    assert [d.status for d in recorded] == ["retrying", "succeeded", "retrying", "retrying"]
    assert [d.id for d in recorded] == [first.item["id"], *(c.item["id"] for c in claimed)]
    stats = client.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert (stats["successes"], stats["failures"], stats["consecutive_failures"]) == (1, 3, 2)
    assert stats["failing_since"] is not None
    logs = client.get(f"/api/v1/webhooks/{endpoint['id']}/logs").json()["items"]
    assert sorted(log["status_code"] for log in logs) == [200, 500, 500, 503]


def test_an_attempt_whose_claim_was_taken_over_is_only_logged_and_the_rest_recorded(setup, receiver):
    """A claim that ran out and was taken by another worker: its outcome is logged, not written,
    and the batch still writes the others (the batch is sent again without it)."""
    from webhooks.sender import SendResult
    from webhooks.services import attempts_record, deliveries_claim

    tenant, client, endpoint = setup
    ids = [d.id for d in _space_deliveries(tenant, endpoint, 3)]
    now = utc_now()
    claimed = sorted(deliveries_claim(webhook_id=endpoint["id"], delivery_ids=ids, now=now),
                     key=lambda c: c.item["id"])
    late = now + timedelta(hours=1)  # past the lease: another worker takes the middle one
    (taken,) = deliveries_claim(webhook_id=endpoint["id"], delivery_ids=[claimed[1].item["id"]], now=late)
    recorded = attempts_record([(c, SendResult(status_code=200)) for c in claimed], now=now)
    assert [d.status for d in recorded] == ["succeeded", "pending", "succeeded"]
    assert repositories.delivery_item_read(webhook_id=endpoint["id"], delivery_id=taken.item["id"])[
        "attempt_count"] == 2
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}").json()["successes"] == 2
    assert len(client.get(f"/api/v1/webhooks/{endpoint['id']}/logs").json()["items"]) == 3


@pytest.mark.parametrize("answer", [
    Answer(headers={"Content-Type": "text/plain; charset=base64"}),  # a bytes transform, not a text encoding
    Answer(headers={"Content-Type": "text/plain; charset=rot13"}),
    Answer(headers={"Content-Type": "text/plain; charset=utf-7"}, body=b"+2AA-"),  # a lone surrogate, in UTF-7
    Answer(headers={"Content-Type": "text/plain; charset=unicode_escape"}, body=b"\\ud800"),
    Answer(status=302, headers={"Location": "/moved-\xff"}),  # not UTF-8: aiohttp gives a lone surrogate
    Answer(status=429, headers={"Retry-After": "9" * 5000}),  # more digits than int() reads
], ids=["base64", "rot13", "utf-7", "unicode_escape", "location-not-utf-8", "retry-after-5000-digits"])
def test_whatever_a_receiver_answers_its_attempt_is_recorded(setup, receiver, answer):
    """The worker's attempt is logged and moves its delivery on, whatever the answer: one that
    raised in the sender or that the store refused was never recorded, and its delivery was sent
    again whenever its lease ran out, forever, never logged or dead-lettered."""
    tenant, client, endpoint = setup
    receiver.answer(answer)
    space_create(tenant=tenant, actor="test", name="Answered")
    deliver(1, receiver)
    (delivery,) = deliveries_of(endpoint["id"])
    assert (delivery.status, delivery.attempt_count, delivery.lease_until) == (
        "succeeded" if answer.status == 200 else "retrying", 1, None)
    (log,) = client.get(f"/api/v1/webhooks/{endpoint['id']}/logs").json()["items"]
    assert log["status_code"] == answer.status
    if answer.status == 200:
        assert log["response_body"] == answer.body.decode()  # read as UTF-8: nothing unescaped
    elif answer.status == 302:
        assert log["error_message"].endswith("(Location: /moved-\ufffd)")
    else:
        # Retry-After asked for more than a day: a day it is.
        assert parse_iso(delivery.next_attempt_at) - parse_iso(log["attempted_at"]) >= timedelta(days=1)
