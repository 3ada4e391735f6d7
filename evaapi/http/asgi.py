"""The HTTP side of the ASGI application: Django's handler, fronted by a request-body guard."""

import asyncio
import re
import tempfile

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

from evaapi.concurrency import request_executor

# Set in the scope (to the limit passed) when the body was refused unread; ErrorShapeMiddleware
# answers 413.
BODY_REFUSED = "evaapi.body_refused"
# A chunked body is held in memory up to this size, then on disk, until it is whole.
_SPOOL_BYTES = 1024 * 1024
_REPLAY_BLOCK = 64 * 1024


class EvaASGIHandler(ASGIHandler):
    """Django's ASGI handler, with each request's thread-sensitive work (a sync view, the
    request signals, closing the response) on a thread borrowed from a bounded pool for the
    request's duration, instead of on a thread started for it (evaapi.concurrency)."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        pool = request_executor()
        executor = await pool.acquire()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            pool.release(executor)


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class RequestBodyGuard:
    """Bodies larger than `max_bytes` are refused as soon as that is known, unread: at once when
    Content-Length says so, and for a chunked body when the limit is passed, so memory stays
    bounded whatever a client sends (the server reads from the socket only as we receive).

    A chunked body within the limit is read whole and handed on with a Content-Length, because
    Django's request and DRF's parsers read no body without one."""

    def __init__(self, app, *, max_bytes: int, larger: dict[tuple[str, str], int] | None = None):
        """`larger`: {(method, path regex): limit} for the endpoints that take more (uploads)."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(method, re.compile(path), limit) for (method, path), limit in (larger or {}).items()]

    def _limit(self, scope) -> int:
        for method, path, limit in self.larger:
            if scope["method"] == method and path.match(scope["path"]):
                return limit
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = self._limit(scope)
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                too_large = int(length) > max_bytes
            except ValueError:
                too_large = False  # the server refuses a malformed length before we see it
            if too_large:
                return await self.app(_refused(scope, max_bytes), _replay(None, None), send)
            return await self.app(scope, receive, send)
        if _header(scope, b"transfer-encoding") is None:
            return await self.app(scope, receive, send)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                body.write(message.get("body", b""))
                if body.tell() > max_bytes:
                    return await self.app(_refused(scope, max_bytes), _replay(None, None), send)
                if not message.get("more_body", False):
                    break
            headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
            headers.append((b"content-length", str(body.tell()).encode()))
            body.seek(0)
            return await self.app({**scope, "headers": headers}, _replay(body, receive), send)


def _refused(scope, limit: int) -> dict:
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]
    return {**scope, "headers": headers, BODY_REFUSED: limit}


def _replay(body, receive):
    """A receive() that gives the file `body` (None: an empty body) in blocks, then what
    `receive` gives (the disconnect); with no `receive`, nothing more: the unread rest of a
    refused body stays in the socket, never in memory, and the connection closes after the
    response (ErrorShapeMiddleware asks for it)."""
    done = False

    async def replay():
        nonlocal done
        if not done:
            block = body.read(_REPLAY_BLOCK) if body is not None else b""
            more = body is not None and body.tell() < _size(body)
            done = not more
            return {"type": "http.request", "body": block, "more_body": more}
        if receive is None:
            await asyncio.Future()  # waits until the request is done and this is cancelled
        return await receive()

    return replay


def _size(file) -> int:
    position = file.tell()
    end = file.seek(0, 2)
    file.seek(position)
    return end
