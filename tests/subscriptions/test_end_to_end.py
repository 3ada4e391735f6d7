"""Subscriptions end to end: two server processes (python -m evaapi.serve), the reference
graphql-ws client and the legacy subscriptions-transport-ws client (Node, tests/subscriptions/
clients), events raised through REST on either server or by a background job."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.services import document_process, document_upload
from spaces.services import space_create
from tests.factories import api_key_make, tenant_make
from tests.http.conftest import PROJECT_DIR, SERVER_ENV, api_server

pytestmark = pytest.mark.django_db
CLIENTS = Path(__file__).resolve().parent / "clients"


@pytest.fixture(scope="module")
def servers():
    """Two server processes, each its own uvicorn, sharing Redis and the store."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=PROJECT_DIR,
                   env=os.environ, check=True)
    with api_server(env=SERVER_ENV) as first, api_server(env=SERVER_ENV) as second:
        yield first, second


class NodeClient:
    """A Node client process; its stdout lines (JSON payloads) read on a thread."""

    def __init__(self, script: str, url: str, key: str, count: int, query: str, variables: dict | None = None):
        ws_url = url.replace("http://", "ws://") + "/graphql"
        self.process = subprocess.Popen(
            ["node", str(CLIENTS / script), ws_url, key, str(count), query, json.dumps(variables or {})],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_DIR)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def line(self, timeout: float = 15) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"no output; stderr: {self.process.stderr.read()[-2000:]}") from None

    def connected(self) -> "NodeClient":
        assert self.line() == "connected"
        time.sleep(0.5)  # the protocol has no "subscribed": let the subscription start listening
        return self

    def payloads(self, count: int) -> list[dict]:
        return [json.loads(self.line()) for _ in range(count)]

    def finished(self) -> int:
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def _rest(url: str, key: str, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def test_two_servers_deliver_an_event_raised_on_either_to_both_clients(servers):
    first, second = servers
    tenant = tenant_make()
    key = api_key_make(tenant)
    query = "subscription($t: String!) { spaceEvents(tenantId: $t) { type data } }"
    modern = NodeClient("graphql_ws_client.mjs", first, key, 2, query, {"t": tenant.id}).connected()
    legacy = NodeClient("legacy_client.mjs", second, key, 2, query, {"t": tenant.id}).connected()
    _rest(first, key, "POST", "/api/v1/spaces", {"name": "Raised on the first"})
    _rest(second, key, "POST", "/api/v1/spaces", {"name": "Raised on the second"})
    for client in (modern, legacy):
        names = [p["data"]["spaceEvents"]["data"]["name"] for p in client.payloads(2)]
        assert sorted(names) == ["Raised on the first", "Raised on the second"]
        assert client.finished() == 0


def test_an_upload_gives_document_added_then_processed_to_a_stock_client(servers):
    first, _ = servers
    tenant = tenant_make()
    key = api_key_make(tenant)
    space = space_create(tenant=tenant, actor="test", name="Uploads")
    query = ("subscription($s: UUID!) { a: documentAdded(spaceId: $s) { id status } }")
    added = NodeClient("graphql_ws_client.mjs", first, key, 1, query, {"s": space.id}).connected()
    updated = NodeClient("graphql_ws_client.mjs", first, key, 1,
                         "subscription($s: UUID!) { documentUpdated(spaceId: $s) { id status chunkCount } }",
                         {"s": space.id}).connected()
    document = document_upload(tenant=tenant, actor="test", space_id=space.id, filename="notes.txt",
                               file=SimpleUploadedFile("notes.txt", b"Plain words for a plain test. " * 10))
    assert added.payloads(1) == [{"data": {"a": {"id": document.id, "status": "UPLOADED"}}}]
    document_process(tenant_id=tenant.id, document_id=document.id)  # what the documents worker runs
    (payload,) = updated.payloads(1)
    assert payload["data"]["documentUpdated"]["status"] == "PROCESSED"
    assert added.finished() == 0
    assert updated.finished() == 0


def test_a_client_that_was_away_resumes_with_each_missed_event_once(servers):
    first, second = servers
    tenant = tenant_make()
    key = api_key_make(tenant)
    query = "subscription($after: UUID) { events(types: [\"space.*\"], after: $after) { id data } }"
    before = NodeClient("graphql_ws_client.mjs", first, key, 1, query).connected()
    _rest(first, key, "POST", "/api/v1/spaces", {"name": "Seen"})
    (seen,) = before.payloads(1)
    assert before.finished() == 0
    for name in ("Missed 1", "Missed 2"):
        _rest(first, key, "POST", "/api/v1/spaces", {"name": name})
    after = NodeClient("graphql_ws_client.mjs", second, key, 3, query,
                       {"after": seen["data"]["events"]["id"]}).connected()
    _rest(second, key, "POST", "/api/v1/spaces", {"name": "Live"})
    names = [p["data"]["events"]["data"]["name"] for p in after.payloads(3)]
    assert names == ["Missed 1", "Missed 2", "Live"]
    assert after.finished() == 0


def test_bad_credentials_close_the_stock_clients_socket_with_4403(servers):
    first, _ = servers
    client = NodeClient("graphql_ws_client.mjs", first, "eva_not_a_key", 1,
                        "subscription { events { id } }")
    line = json.loads(client.line())
    assert line["closed"] == 4403
    assert client.finished() == 2


def test_the_server_declines_per_message_compression(servers):
    """Clients offer permessage-deflate (browsers always do); the server declines it, so each
    message is written as is rather than compressed again for every socket (evaapi/serve.py)."""
    import asyncio

    from websockets.asyncio.client import connect

    async def extensions() -> list:
        url = servers[0].replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"], compression="deflate") as socket:
            return [type(extension).__name__ for extension in socket.protocol.extensions]

    assert asyncio.run(extensions()) == []
