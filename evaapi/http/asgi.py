"""The HTTP side of the ASGI application: Django's handler, fronted by a request-body guard."""

import asyncio

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

from evaapi.concurrency import request_executor

# Set in the scope when the body was refused unread; ErrorShapeMiddleware answers 413.
BODY_REFUSED = "evaapi.body_refused"


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

    def __init__(self, app, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                too_large = int(length) > self.max_bytes
            except ValueError:
                too_large = False  # the server refuses a malformed length before we see it
            if too_large:
                return await self.app(_refused(scope), _replay(b"", None), send)
            return await self.app(scope, receive, send)
        if _header(scope, b"transfer-encoding") is None:
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await self.app(_refused(scope), _replay(b"", None), send)
            if not message.get("more_body", False):
                break
        headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
        headers.append((b"content-length", str(len(body)).encode()))
        return await self.app({**scope, "headers": headers}, _replay(bytes(body), receive), send)


def _refused(scope) -> dict:
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]
    return {**scope, "headers": headers, BODY_REFUSED: True}


def _replay(body: bytes, receive):
    """A receive() that gives `body` whole, then what `receive` gives (the disconnect); with no
    `receive`, nothing more: the unread rest of a refused body stays in the socket, never in
    memory, and the connection closes after the response (ErrorShapeMiddleware asks for it)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if receive is None:
            await asyncio.Future()  # waits until the request is done and this is cancelled
        return await receive()

    return replay
