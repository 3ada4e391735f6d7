"""A server process's one membership of each Channels group its sockets listen to.

Each socket used to join its groups itself. An event to 1,000 subscribers was then 1,000 copies
of the message in Redis (core layer), 1,000 reads of them, and channels' receive and dispatch
for every consumer: about half of a server process's time during such a fan-out
(bench/README.md). Here the process joins a group once, on a channel of its own, reads each
event once and offers it to its streams in memory; the sockets' consumers have no channel.

The reader runs while any stream listens, and memberships are renewed every
GROUP_RENEW_SECONDS: the layer forgets a member after a day (its group expiry), and a Redis
that lost its data (a flush, a restart) forgets them at once."""

import asyncio
import logging
from weakref import WeakKeyDictionary

from channels.layers import get_channel_layer

from evaapi.events.domain import Event

logger = logging.getLogger("evaapi.subscriptions")

GROUP_RENEW_SECONDS = 60.0
_READ_RETRY_SECONDS = 1.0
_by_loop: WeakKeyDictionary = WeakKeyDictionary()  # event loop -> ProcessGroups


class ProcessGroups:
    def __init__(self, layer):
        self._layer = layer
        self._members: dict[str, set] = {}  # group -> the streams listening to it
        # Joins and leaves one at a time: a leave's group_discard finishing after a new join's
        # group_add would drop a membership that a stream relies on.
        self._lock = asyncio.Lock()
        self._channel: str | None = None
        self._tasks: list[asyncio.Task] = []

    async def listen(self, group: str, stream) -> None:
        """Once this returns, every event sent to `group` reaches `stream` (stream.offer)."""
        async with self._lock:
            if self._channel is None:
                self._channel = await self._layer.new_channel()
                self._tasks = [asyncio.create_task(self._read(self._channel)),
                               asyncio.create_task(self._renew())]
            if group not in self._members:
                await self._layer.group_add(group, self._channel)
                self._members[group] = set()
            self._members[group].add(stream)

    async def unlisten(self, group: str, stream) -> None:
        async with self._lock:
            members = self._members.get(group)
            if members is None or stream not in members:
                return
            members.discard(stream)
            if members:
                return
            del self._members[group]
            try:
                await self._layer.group_discard(group, self._channel)
            except Exception:
                # Harmless: the process drops what it no longer listens to, and the layer
                # forgets the membership at its group expiry.
                logger.warning("leaving the Channels group %s failed", group, exc_info=True)
            if not self._members:
                for task in self._tasks:
                    task.cancel()
                self._tasks, self._channel = [], None

    def _deliver(self, message: dict) -> None:
        members = self._members.get(message.get("group"))
        if not members:
            return  # sent before this process left the group
        event = Event.from_dict(message["event"])
        for stream in list(members):
            stream.offer(event)

    async def _read(self, channel: str) -> None:
        while True:
            try:
                message = await self._layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("reading the process's Channels messages failed; trying again", exc_info=True)
                await asyncio.sleep(_READ_RETRY_SECONDS)
                continue
            try:
                self._deliver(message)
            except Exception:
                logger.exception("an event could not be offered to this process's subscriptions")

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(GROUP_RENEW_SECONDS)
            async with self._lock:
                try:
                    for group in self._members:
                        await self._layer.group_add(group, self._channel)
                except Exception:
                    logger.warning("renewing the process's Channels groups failed; will try again", exc_info=True)


def process_groups() -> ProcessGroups:
    """This event loop's (a server process has one)."""
    loop = asyncio.get_running_loop()
    groups = _by_loop.get(loop)
    if groups is None:
        groups = _by_loop[loop] = ProcessGroups(get_channel_layer())
    return groups
