"""A real HTTP receiver on 127.0.0.1 for the sender's tests: it records every request and counts
TCP connections as it accepts them (so "nothing reached it" covers connections, not just requests)."""

import asyncio
from dataclasses import dataclass

from aiohttp import web

HUGE_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Paths: /ok (200), /redirect (302 to /target), /target, /slow (answers only when the test
    ends), /busy (503, Retry-After: 120), /huge (a 1 MiB body), /concurrent (counts the requests
    in flight, holding each for `hold_seconds`)."""

    def __init__(self, *, hold_seconds: float = 0.02):
        self.hold_seconds = hold_seconds
        self.received: list[Received] = []
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [request.path for request in self.received]

    async def start(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/ok", self._ok)
        app.router.add_post("/target", self._ok)
        app.router.add_post("/redirect", self._redirect)
        app.router.add_post("/slow", self._slow)
        app.router.add_post("/busy", self._busy)
        app.router.add_post("/huge", self._huge)
        app.router.add_post("/concurrent", self._concurrent)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        handler_factory = self._runner.server

        def accept():
            self.connections += 1
            return handler_factory()

        self._server = await asyncio.get_running_loop().create_server(accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._release.set()
        self._server.close()
        await self._runner.cleanup()
        await self._server.wait_closed()

    async def _record(self, request: web.Request) -> None:
        self.received.append(Received(path=request.path, headers=dict(request.headers), body=await request.read()))

    async def _ok(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(text="ok")

    async def _redirect(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=302, headers={"Location": "/target"})

    async def _slow(self, request: web.Request) -> web.Response:
        await self._record(request)
        await self._release.wait()
        return web.Response(text="too late")

    async def _busy(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=503, text="busy", headers={"Retry-After": "120"})

    async def _huge(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(body=b"x" * HUGE_BODY_BYTES, content_type="text/plain")

    async def _concurrent(self, request: web.Request) -> web.Response:
        await self._record(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.hold_seconds)
        finally:
            self.in_flight -= 1
        return web.Response(text="ok")
