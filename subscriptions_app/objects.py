"""The object an event is about (a document, a query), read once per event in a process however
many of its subscribers want it: the first asks the store, the others await the same read."""

import asyncio
from collections import OrderedDict
from weakref import WeakKeyDictionary

from evaapi.concurrency import run_sync

_KEPT = 1000  # recent reads per event loop; an event's subscribers ask within milliseconds
_reads: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> OrderedDict[key, Future]


async def object_for_event(key: tuple, read, /, **kwargs):
    """`read(**kwargs)` (a selector, on the sync pool) once per `key`; `key` names the event and
    the tenant, so a read is never shared across tenants."""
    loop = asyncio.get_running_loop()
    reads = _reads.setdefault(loop, OrderedDict())
    future = reads.get(key)
    if future is None:
        future = reads[key] = loop.create_task(run_sync(read, **kwargs))
        if len(reads) > _KEPT:
            reads.popitem(last=False)
    return await asyncio.shield(future)
