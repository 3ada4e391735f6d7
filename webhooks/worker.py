"""The delivery worker: one asyncio process sending many webhook attempts at once.

It pops "<webhook id> <delivery id>" from Redis (pushed at fan-out, on a retry or replay, and by
the sweeper for whatever is due), claims the delivery in the store, sends it through one shared
HTTP client (connection reuse, bounded in total and per endpoint) and records the outcome. The
store calls go through `run_sync`, the HTTP through the event loop: a slow receiver holds one
task, not a process."""

import asyncio
import logging

import redis.asyncio as redis_asyncio
from django.conf import settings

from evaapi.concurrency import run_sync
from evaapi.http.context import reset_request_id, set_request_id
from webhooks.sender import WebhookSender
from webhooks.services import DUE_QUEUE, delivery_attempt_record, delivery_claim

logger = logging.getLogger("evaapi.webhooks")


async def _attempt(sender: WebhookSender, webhook_id: str, delivery_id: str) -> None:
    token = set_request_id(delivery_id)  # the attempt's log lines carry the delivery id
    try:
        claimed = await run_sync(delivery_claim, webhook_id=webhook_id, delivery_id=delivery_id)
        if claimed is None:
            return  # not due, final, or another worker's
        result = await sender.send(url=claimed.url, headers=claimed.headers, body=claimed.body,
                                   endpoint_key=webhook_id)
        delivery = await run_sync(delivery_attempt_record, claimed, result)
        logger.info("webhook attempt", extra={
            "webhook_id": webhook_id, "delivery_id": delivery_id, "attempt": claimed.attempt,
            "status_code": result.status_code, "outcome": str(delivery.status),
            "latency_ms": round(result.latency_ms, 2),
        })
    except Exception:
        # The delivery keeps its lease until it runs out; then the sweeper pushes it again.
        logger.exception("webhook attempt of delivery %s failed inside the worker", delivery_id)
    finally:
        reset_request_id(token)


async def worker_run(stop: asyncio.Event) -> None:
    """Runs until `stop` is set, then lets the attempts in flight finish."""
    sender = WebhookSender()
    client = redis_asyncio.from_url(settings.REDIS_URL)
    slots = asyncio.Semaphore(settings.WEBHOOK_CONCURRENCY)
    in_flight: set[asyncio.Task] = set()

    def done(task: asyncio.Task) -> None:
        in_flight.discard(task)
        slots.release()

    try:
        while not stop.is_set():
            await slots.acquire()
            try:
                popped = await client.blpop([DUE_QUEUE], timeout=1)
            except Exception:
                slots.release()
                logger.warning("cannot read the webhook queue from Redis; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            if popped is None:
                slots.release()
                continue
            webhook_id, delivery_id = popped[1].decode().split(" ", 1)
            task = asyncio.create_task(_attempt(sender, webhook_id, delivery_id))
            in_flight.add(task)
            task.add_done_callback(done)
    finally:
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        await sender.close()
        await client.aclose()
