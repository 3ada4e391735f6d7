"""The one crossing from async to sync code: run_sync carries the request's context (its id and
its store-call counter) to the pool thread, and a DataLoader batch costs one store call that
counts for the request."""

import asyncio
import threading

import pytest
from graphene.utils.dataloader import DataLoader

from evaapi.auth.repositories import API_KEYS
from evaapi.concurrency import run_sync
from evaapi.http.context import current_request_id, reset_request_id, set_request_id
from evaapi.store import Query, store
from evaapi.store import query as q
from evaapi.store.metrics import store_calls_close, store_calls_open
from tests.factories import api_key_make


def _keys_read(ids: list[str]) -> tuple[dict[str, dict], str | None, int]:
    items = store().container(API_KEYS).query(Query(filters=(q.in_("id", ids),)), partition_key=None).items
    return {item["id"]: item for item in items}, current_request_id(), threading.get_ident()


@pytest.mark.django_db
async def test_a_dataloader_batch_is_one_store_call_counted_for_its_request(tenant):
    ids = [api_key_make(tenant)[4:16] for _ in range(3)]
    seen = []

    async def batch_load(keys):
        found, request_id, thread = await run_sync(_keys_read, list(keys))
        seen.append((request_id, thread))
        return [found.get(key) for key in keys]

    calls, calls_token = store_calls_open()
    request_token = set_request_id("request-under-test")
    try:
        loader = DataLoader(batch_load_fn=batch_load, max_batch_size=100)
        items = await asyncio.gather(*(loader.load(key) for key in ids))
    finally:
        reset_request_id(request_token)
        store_calls_close(calls_token)
    assert [item["id"] for item in items] == ids
    assert dict(calls.by_operation) == {"query": 1}
    assert [request_id for request_id, _ in seen] == ["request-under-test"]


@pytest.mark.django_db  # run_sync closes the pool thread's stale Django connections (other tests open them)
async def test_run_sync_runs_batches_side_by_side_on_the_pool():
    barrier = threading.Barrier(3, timeout=10)

    def meet():
        # Three calls that each wait for the other two: they only finish if they run at once.
        barrier.wait()
        return threading.get_ident()

    threads = await asyncio.gather(*(run_sync(meet) for _ in range(3)))
    assert len(set(threads)) == 3
    assert threading.get_ident() not in threads
