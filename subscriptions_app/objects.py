"""Work done once per event in a process however many of its subscribers need it: the object an
event is about (a document, a query), and each distinct subscription's message for the event.
The first subscriber to ask does the work; the others await the same result."""

import asyncio
from collections import OrderedDict
from weakref import WeakKeyDictionary

from evaapi.concurrency import run_sync

_KEPT = 1000  # recent results per event loop; an event's subscribers ask within milliseconds
_results: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> OrderedDict[key, Task]


async def once_per_event(key: tuple, make):
    """`await make()` once per `key`; `key` names the event and the tenant (and whatever else
    the result depends on), so a result is never shared across tenants."""
    loop = asyncio.get_running_loop()
    results = _results.setdefault(loop, OrderedDict())
    task = results.get(key)
    if task is None:
        task = results[key] = loop.create_task(make())
        if len(results) > _KEPT:
            results.popitem(last=False)
    return await asyncio.shield(task)


async def object_for_event(key: tuple, read, /, **kwargs):
    """`read(**kwargs)` (a selector, on the sync pool) once per `key`."""
    return await once_per_event(("object", *key), lambda: run_sync(read, **kwargs))
