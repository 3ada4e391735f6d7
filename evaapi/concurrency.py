"""Where synchronous code runs when asynchronous code needs it: the one crossing point.

The store, the services and the selectors are synchronous; the server, the GraphQL view (whose
DataLoaders batch on asyncio) and the Channels consumers are asynchronous. Two bounded pools
per process carry work across, and every crossing takes the caller's context along (request
id, client IP, the store-call counter), so a store call made on a pool thread is logged and
counted for the request that caused it:

- `request_executor()`: each HTTP request borrows one single-thread executor for its whole
  duration (evaapi.http.asgi). Django runs the request's thread-sensitive parts there: a sync
  view, the request signals, closing the response. Borrowed, not made: Django's stock handler
  starts and stops a thread for every request, which costs more than most of our requests.
- `run_sync(fn, ...)`: for async code calling a selector or service. A shared pool, not the
  request's thread, so that the DataLoader batches of one GraphQL request run side by side
  instead of one after another.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from asgiref.sync import AsyncToSync, sync_to_async
from django.conf import settings
from django.db import close_old_connections


class _ExecutorPool:
    """A fixed set of single-thread executors, lent to one request at a time. A request that
    finds none free waits for one: the pool bounds how many requests run sync code at once."""

    def __init__(self):
        self._free: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _queue(self) -> asyncio.Queue:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # One queue per event loop (a server process has one; tests may start several).
            self._loop, self._free = loop, asyncio.Queue()
            for index in range(settings.EVA_REQUEST_THREADS):
                self._free.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{index}"))
        return self._free

    async def acquire(self) -> ThreadPoolExecutor:
        return await self._queue().get()

    def release(self, executor: ThreadPoolExecutor) -> None:
        self._free.put_nowait(executor)


_request_executors = _ExecutorPool()


def request_executor() -> _ExecutorPool:
    return _request_executors


@cache
def _sync_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.EVA_SYNC_POOL_THREADS, thread_name_prefix=f"sync-{os.getpid()}")


def _with_fresh_connections(fn, args, kwargs):
    # Pool threads outlive requests: give Django's database connections the per-request
    # treatment (closed when too old or broken), as request_started/finished do.
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def run_sync(fn, /, *args, **kwargs):
    """`fn(*args, **kwargs)` on the shared pool, in a copy of the caller's context.

    Under a synchronous server (WSGI, Django's test client) the call goes back to the thread
    that serves the request instead, as Django's own thread-sensitive calls do, so it sees that
    thread's database connection and transaction."""
    if getattr(AsyncToSync.executors, "current", None) is not None:
        return await sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)
    return await sync_to_async(_with_fresh_connections, thread_sensitive=False, executor=_sync_pool())(
        fn, args, kwargs
    )
