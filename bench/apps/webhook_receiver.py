"""The fast local webhook receiver of bench/webhooks.py: a bare HTTP/1.1 server on asyncio (uvloop)
that answers every POST with `200`, an empty body and keep-alive, and does no other work.

    python bench/apps/webhook_receiver.py PORT

No framework: the request is parsed just enough to find its end (Content-Length) and its
`webhook-id` header. For every POST it records the arrival time (`time.time()`, the wall clock
the bench and EVA's event timestamps use too, so the three are compared on one clock) and the
`webhook-id` (None for wrk's requests). The bench reads them, and nothing else happens per
request, so the receiver's ceiling under wrk is the most a delivery run could get from it.

Control paths (GET, answered with `Connection: close`, never recorded):

- `/_bench/arrivals?start=I&wait=N&timeout=S`: waits until N requests have arrived (or S
  seconds have passed), then answers `{"total": ..., "connections": ..., "arrivals": [[time,
  webhook_id], ...]}` with the arrivals from index I on.
- `/_bench/reset`: forgets the arrivals and the connection count.

Garbage collection is off: the arrivals are a long list of small tuples the collector would
walk again and again, and the server makes no reference cycles per request."""

import asyncio
import contextlib
import gc
import json
import sys
import time
from urllib.parse import parse_qs, urlsplit

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"
_WEBHOOK_ID = b"\r\nwebhook-id:"


class State:
    def __init__(self):
        self.arrivals: list[tuple[float, str | None]] = []
        self.connections = 0
        self.waiters: list[tuple[int, asyncio.Future]] = []

    def reset(self) -> None:
        self.arrivals = []
        self.connections = 0

    def wake(self) -> None:
        count = len(self.arrivals)
        still = []
        for wanted, future in self.waiters:
            if future.done():
                continue
            if count >= wanted:
                future.set_result(None)
            else:
                still.append((wanted, future))
        self.waiters = still

    async def wait_for(self, wanted: int, timeout: float) -> None:
        if len(self.arrivals) >= wanted:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((wanted, future))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, timeout)


STATE = State()


def _header(head: bytes, name: bytes) -> bytes | None:
    at = head.find(name)
    if at < 0:
        return None
    start = at + len(name)
    end = head.find(b"\r\n", start)
    return head[start:end if end >= 0 else len(head)].strip()


class Receiver(asyncio.Protocol):
    def __init__(self):
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport):
        self.transport = transport
        STATE.connections += 1

    def data_received(self, data):
        buffer = self.buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            length = _header(head, _CONTENT_LENGTH)
            total = end + 4 + (int(length) if length else 0)
            if len(buffer) < total:
                return
            del buffer[:total]
            if head.startswith(b"post "):
                webhook_id = _header(head, _WEBHOOK_ID)
                STATE.arrivals.append((time.time(), webhook_id.decode() if webhook_id else None))
                self.transport.write(OK)
                if STATE.waiters:
                    STATE.wake()
            else:
                target = head.split(b" ", 2)[1].decode()
                asyncio.get_running_loop().create_task(self._control(target))
                return

    async def _control(self, target: str) -> None:
        url = urlsplit(target)
        params = {name: values[-1] for name, values in parse_qs(url.query).items()}
        if url.path == "/_bench/reset":
            STATE.reset()
            body = b'{"reset": true}'
        elif url.path == "/_bench/arrivals":
            await STATE.wait_for(int(params.get("wait", 0)), float(params.get("timeout", 0)))
            start = int(params.get("start", 0))
            body = json.dumps({"total": len(STATE.arrivals), "connections": STATE.connections,
                               "arrivals": STATE.arrivals[start:]}, separators=(",", ":")).encode()
        else:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        self.transport.close()


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    port = int(sys.argv[1])
    gc.disable()
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is in the project's requirements
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(port))


if __name__ == "__main__":
    main()
