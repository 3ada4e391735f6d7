"""The delivery worker: one asyncio process sending many webhook attempts at once.

It pops "<webhook id> <delivery id>" from Redis (pushed at fan-out, on a retry or replay, and by
the sweeper for whatever is due), as many at a time as it has room for; claims them in the store
by endpoint (one batch each), sends each through one shared HTTP client (connection reuse,
bounded in total and per endpoint) and records the outcomes. The store calls go through
`run_sync`, the HTTP through the event loop: a slow receiver holds one task, not a process.

Outcomes are recorded in batches too: a recorder collects the attempts that finished while its
previous batch was being written and writes them together (one batch of logs, one of deliveries
and one stats update per endpoint). Store writes, not sending, are what limit a worker; writing
them one attempt at a time, two workers mostly waited on each other's write locks."""

import asyncio
import contextlib
import logging
from collections import defaultdict

import redis.asyncio as redis_asyncio
from django.conf import settings

from evaapi.concurrency import run_sync
from evaapi.http.context import reset_request_id, set_request_id
from webhooks.domain import Delivery
from webhooks.sender import SendResult, WebhookSender
from webhooks.services import DUE_QUEUE, ClaimedAttempt, attempts_record, deliveries_claim

logger = logging.getLogger("evaapi.webhooks")

RECORD_BATCH = 200  # attempts written together at most


class RecordFailed(Exception):
    """The attempt happened but its outcome could not be written: its lease runs out and the
    sweeper pushes the delivery again (receivers drop the repeat by its webhook-id)."""


class Recorder:
    """Writes finished attempts in batches: whatever finished while the previous batch was being
    written goes in the next, so batches grow with the load and an idle worker writes at once."""

    def __init__(self) -> None:
        self.waiting: list[tuple[ClaimedAttempt, SendResult, asyncio.Future]] = []
        self.arrived = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def record(self, claimed: ClaimedAttempt, result: SendResult) -> Delivery:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((claimed, result, future))
        self.arrived.set()
        return await future

    async def close(self) -> None:
        """After the last `record` call: writes what is waiting, then stops."""
        while self.waiting:
            await asyncio.sleep(0.01)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _run(self) -> None:
        while True:
            await self.arrived.wait()
            batch, self.waiting = self.waiting[:RECORD_BATCH], self.waiting[RECORD_BATCH:]
            if not self.waiting:
                self.arrived.clear()
            await self._write(batch)

    async def _write(self, batch) -> None:
        try:
            deliveries = await run_sync(attempts_record, [(claimed, result) for claimed, result, _ in batch])
        except Exception:
            if len(batch) == 1:
                batch[0][2].set_exception(RecordFailed())
                return
            # One bad attempt must not cost the others their record: write them one by one.
            logger.warning("a batch of %d webhook attempts failed to record; recording them one by one", len(batch),
                           exc_info=True)
            for entry in batch:
                await self._write([entry])
            return
        for (_, _, future), delivery in zip(batch, deliveries, strict=True):
            future.set_result(delivery)


async def _attempt(sender: WebhookSender, recorder: Recorder, claimed: ClaimedAttempt) -> None:
    item = claimed.item
    token = set_request_id(item["id"])  # the attempt's log lines carry the delivery id
    try:
        result = await sender.send(url=claimed.url, headers=claimed.headers, body=claimed.body,
                                   endpoint_key=item["webhook_id"])
        delivery = await recorder.record(claimed, result)
        logger.info("webhook attempt", extra={
            "webhook_id": item["webhook_id"], "delivery_id": item["id"], "attempt": claimed.attempt,
            "status_code": result.status_code, "outcome": str(delivery.status),
            "latency_ms": round(result.latency_ms, 2),
        })
    except RecordFailed:
        logger.exception("the outcome of delivery %s's attempt could not be recorded", item["id"])
    except Exception:
        # The delivery keeps its lease until it runs out; then the sweeper pushes it again.
        logger.exception("webhook attempt of delivery %s failed inside the worker", item["id"])
    finally:
        reset_request_id(token)


async def _endpoint_batch(sender: WebhookSender, recorder: Recorder, webhook_id: str, delivery_ids: list[str],
                          release) -> None:
    try:
        claimed = await run_sync(deliveries_claim, webhook_id=webhook_id, delivery_ids=delivery_ids)
    except Exception:
        # Nothing was claimed: the deliveries stay due, and the sweeper pushes them again.
        logger.exception("could not claim %d deliveries of webhook %s", len(delivery_ids), webhook_id)
        claimed = []
    release(len(delivery_ids) - len(claimed))  # not due, final or another worker's

    async def attempt(one: ClaimedAttempt) -> None:
        try:
            await _attempt(sender, recorder, one)
        finally:
            release(1)

    await asyncio.gather(*(attempt(one) for one in claimed))


async def _pop(client, room: int) -> list[str]:
    """Up to `room` queue entries: waits a second for the first, then takes what else is there."""
    popped = await client.blpop([DUE_QUEUE], timeout=1)
    if popped is None:
        return []
    entries = [popped[1]]
    if room > 1:
        entries += await client.lpop(DUE_QUEUE, room - 1) or []
    return [entry.decode() for entry in entries]


async def worker_run(stop: asyncio.Event) -> None:
    """Runs until `stop` is set, then lets the attempts in flight finish."""
    sender = WebhookSender()
    recorder = Recorder()
    client = redis_asyncio.from_url(settings.REDIS_URL)
    capacity = settings.WEBHOOK_CONCURRENCY
    busy = 0  # deliveries popped and not finished
    freed = asyncio.Event()
    in_flight: set[asyncio.Task] = set()

    def release(count: int) -> None:
        nonlocal busy
        busy -= count
        freed.set()

    try:
        while not stop.is_set():
            if busy >= capacity:
                freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), timeout=1)
                continue
            try:
                entries = await _pop(client, capacity - busy)
            except Exception:
                logger.warning("cannot read the webhook queue from Redis; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            by_endpoint = defaultdict(list)
            for entry in entries:
                webhook_id, delivery_id = entry.split(" ", 1)
                by_endpoint[webhook_id].append(delivery_id)
            for webhook_id, delivery_ids in by_endpoint.items():
                busy += len(delivery_ids)
                task = asyncio.create_task(_endpoint_batch(sender, recorder, webhook_id, delivery_ids, release))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
    finally:
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        await recorder.close()
        await sender.close()
        await client.aclose()
