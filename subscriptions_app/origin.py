"""Which pages may open a socket: a browser's handshake carries its page's Origin, which must be
this server's own or one of CORS_ALLOWED_ORIGINS; clients that send none (servers, CLIs) are
let through, as they are for HTTP (credentials still decide)."""

from urllib.parse import urlsplit

from django.conf import settings


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def origin_allowed(scope) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = _header(scope, b"host")
    return host is not None and urlsplit(origin).netloc == host


class OriginValidator:
    """ASGI middleware: a socket from another page is refused at the handshake (HTTP 403)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            await receive()  # the websocket.connect message
            await send({"type": "websocket.close", "code": 4403})
            return
        await self.application(scope, receive, send)
