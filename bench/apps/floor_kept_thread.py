"""A reference row for bench/http.py: the Django floor (bench/apps/floor.py) without the thread
Django's stock ASGI handler starts for every request.

Django's ASGIHandler runs each request inside a fresh `ThreadSensitiveContext()`, so the
request's thread-sensitive work (the sync receivers of request_started and request_finished,
closing the response) runs on a thread created for that request and joined after it. This
handler leaves that context out: the same work runs on asgiref's one long-lived thread. The
rest (URL resolution, the async view, JsonResponse, the signals) is the stock Django path. It
shows how much of the floor's cost is that per-request thread, which EVA's handler replaces
with a bounded pool (evaapi/http/asgi.py)."""

from django.core.handlers.asgi import ASGIHandler

import bench.apps.floor  # noqa: F401  (configures the settings and the URL)


class KeptThreadASGIHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        await self.handle(scope, receive, send)


application = KeptThreadASGIHandler()
