"""The events a subscription waits on: a bounded queue fed by its socket's Channels groups.

A socket joins a group (`tenant.<id>`, `space.<id>`, `query.<id>`) while at least one of its
subscriptions needs it; an event reaches the socket once per group it was sent to, and each
stream takes it from the groups it asked for, once (a stream on two groups sees a repeat by id).
A subscriber slower than its events loses the oldest ones, and is told: the stream yields a
`Dropped` marker before the next event."""

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from evaapi.events.catalogue import event_type_matches
from evaapi.events.domain import Event

_SEEN_IDS = 1000  # per stream: enough to tell repeats (the same event through two groups)


@dataclass(frozen=True)
class Dropped:
    count: int


def _remember(ids: OrderedDict, event_id: str) -> bool:
    """Adds the id; False if it was there already. Keeps the latest _SEEN_IDS."""
    if event_id in ids:
        return False
    ids[event_id] = None
    if len(ids) > _SEEN_IDS:
        ids.popitem(last=False)
    return True


class EventStream:
    """An async iterator of Events (and Dropped markers). `replay` events come first; a live
    event already replayed is skipped, so the seam has no gap and no repeat."""

    def __init__(self, *, groups: list[str], types=None, capacity: int, on_close):
        self.groups = groups
        self.types = types
        self._queue: asyncio.Queue = asyncio.Queue()
        self._capacity = capacity
        self._dropped = 0
        self._seen: OrderedDict[str, None] = OrderedDict()  # ids yielded
        self._offered: OrderedDict[str, None] = OrderedDict()  # ids queued
        self._replay: list[Event] = []
        # Repeats are only possible through a second group, or between a replay and the live
        # events: a stream with neither skips the bookkeeping (it is per event, per subscriber).
        self._replayed = False
        self._on_close = on_close
        self._closed = False
        # Called with each event as it is queued, before the subscriber wakes: its socket starts
        # the event's message there, once for all the process's subscribers of the same operation.
        self.on_offer = None

    def replay(self, events: list[Event]) -> None:
        self._replay = list(events)
        self._replayed = True

    def offer(self, event: Event) -> None:
        """From the socket, for an event of one of this stream's groups."""
        if self._closed or not event_type_matches(self.types, event.type):
            return
        if len(self.groups) > 1 and not _remember(self._offered, event.id):
            return  # the same event through another of its groups
        if self.on_offer is not None:
            self.on_offer(event)
        if self._queue.qsize() >= self._capacity:
            self._queue.get_nowait()
            self._dropped += 1
        self._queue.put_nowait(event)

    def _first_time(self, event: Event) -> bool:
        return not self._replayed or _remember(self._seen, event.id)

    def __aiter__(self):
        return self

    async def __anext__(self):
        while self._replay:
            event = self._replay.pop(0)
            if self._first_time(event):
                return event
        while True:
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                return Dropped(dropped)
            event = await self._queue.get()
            if self._first_time(event):
                return event

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._on_close(self)
