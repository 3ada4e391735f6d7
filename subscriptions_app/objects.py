"""Work done once per event in a process however many of its subscribers need it: the object an
event is about (a document, a query), and each distinct subscription's message for the event.
The first subscriber to ask does the work; the others await the same result."""

import asyncio
from collections import OrderedDict
from weakref import WeakKeyDictionary

from evaapi.concurrency import run_sync

_KEPT = 1000  # recent results per event loop; an event's subscribers ask within milliseconds
_results: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> OrderedDict[key, Task]


def once_per_event_start(key: tuple, make) -> asyncio.Task:
    """The task making `make()` for `key`: started by the first to ask, shared by the rest."""
    loop = asyncio.get_running_loop()
    results = _results.get(loop)
    if results is None:
        results = _results[loop] = OrderedDict()
    task = results.get(key)
    if task is None:
        task = results[key] = loop.create_task(make())
        # Whoever awaits it sees a failure; one started ahead (below) may end up unawaited.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        if len(results) > _KEPT:
            results.popitem(last=False)
    return task


async def once_per_event(key: tuple, make):
    """`await make()` once per `key`; `key` names the event and the tenant (and whatever else
    the result depends on), so a result is never shared across tenants. A result made already
    is returned without waiting: subscribers whose message was started when the event reached
    the process (EventStream's `on_offer`) take it without a second wake-up each."""
    task = once_per_event_start(key, make)
    if task.done():
        return task.result()
    return await asyncio.shield(task)


async def object_for_event(key: tuple, read, /, **kwargs):
    """`read(**kwargs)` (a selector, on the sync pool) once per `key`."""
    return await once_per_event(("object", *key), lambda: run_sync(read, **kwargs))
