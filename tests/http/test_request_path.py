"""The lean request path under ASGI: no middleware moves a request onto a thread; the only
crossings are Django's own (the request signals, closing the response) and, for a sync view,
the view itself, all on the one thread the request borrowed."""

import asyncio
import json
import threading

import pytest
from asgiref.sync import SyncToAsync

from evaapi.asgi import application
from tests.factories import api_key_make


@pytest.fixture
def crossings(monkeypatch):
    """Each sync function run from async code during the test, with the thread it ran on."""
    seen = []
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        def on_thread(*a, **k):
            seen.append((getattr(self.func, "__qualname__", repr(self.func)), threading.get_ident()))
            return self.func(*a, **k)

        probe = SyncToAsync.__new__(SyncToAsync)
        probe.__dict__.update(self.__dict__)
        probe.func = on_thread
        return await original(probe, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    return seen


async def _get(path: str, headers=()) -> tuple[int, dict]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent, done = [], asyncio.Event()

    async def receive():
        if messages:
            return messages.pop(0)
        await done.wait()  # the client stays until the response is complete, as a real one does
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


async def test_health_crosses_only_for_djangos_own_signals_and_close(crossings):
    status, body = await _get("/health")
    assert (status, body["status"]) == (200, "healthy")
    names = [name for name, _ in crossings]
    assert names == ["Signal.asend.<locals>.sync_send", "HttpResponseBase.close"], names


@pytest.mark.django_db
async def test_an_api_read_crosses_once_for_its_view_on_one_thread(crossings, tenant):
    key = api_key_make(tenant)
    status, body = await _get(f"/api/v1/auth/api-keys/{key[4:16]}",
                              headers=[(b"authorization", f"Bearer {key}".encode())])
    assert status == 200, body
    names = [name for name, _ in crossings]
    # The view is DRF's as_view() closure: the one crossing of its own.
    assert names == ["Signal.asend.<locals>.sync_send", "View.as_view.<locals>.view", "HttpResponseBase.close"], names
    assert len({thread for _, thread in crossings}) == 1  # the request's borrowed thread
    assert threading.get_ident() not in {thread for _, thread in crossings}
