"""Deliveries and attempts through the worker's own code: one delivery's attempt through the
services (which take many at once), the worker run until a receiver has had its requests, and an
endpoint's deliveries as stored."""

import asyncio

from webhooks import repositories
from webhooks.sender import WebhookSender
from webhooks.services import ClaimedAttempt, attempts_record, deliveries_claim
from webhooks.worker import worker_run

SCHEDULE = [0, 5, 300, 1800]  # the retry schedule of the `setup` fixture (conftest.py)


def claim_one(*, webhook_id: str, delivery_id: str, now=None) -> ClaimedAttempt | None:
    claimed = deliveries_claim(webhook_id=webhook_id, delivery_ids=[delivery_id], now=now)
    return claimed[0] if claimed else None


def record_one(claimed: ClaimedAttempt, result, *, now=None):
    return attempts_record([(claimed, result)], now=now)[0]


async def send_one(claimed: ClaimedAttempt):
    async with WebhookSender() as sender:
        return await sender.send(url=claimed.url, headers=claimed.headers, body=claimed.body,
                                 endpoint_key=claimed.item["webhook_id"])


def deliver(count: int, receiver) -> list:
    """Runs the worker (in this process, on an event loop of its own) until the receiver has had
    `count` requests, then stops it (it finishes and records the attempts in flight)."""

    async def run():
        stop = asyncio.Event()
        worker = asyncio.create_task(worker_run(stop))
        try:
            return await asyncio.to_thread(receiver.wait_for, count)
        finally:
            stop.set()
            await worker

    return asyncio.run(run())


def deliveries_of(webhook_id: str, limit: int = 100):
    return repositories.delivery_page(webhook_id=webhook_id, status=None, limit=limit, continuation=None)[0]
