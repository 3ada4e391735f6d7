"""GraphQL over WebSocket keeps HTTP's limits: refused credentials count against the client
address (X-Forwarded-For from trusted proxies only) and a blocked address is refused at
connection_init; each mutation counts against the rate limit; the cost limit reads variables as
execution does; messages nest no deeper than HTTP bodies; `variables` is an object or null; and
`forbidden` answers count against the client address as over HTTP."""

import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from evaapi.asgi import application
from spaces.selectors import space_list
from tests.factories import api_key_make, tenant_make
from tests.subscriptions.sockets import socket_close_code

pytestmark = pytest.mark.django_db(transaction=True)
TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"


def _address() -> str:
    return f"10.46.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def _socket(address: str | None = None, protocol=TRANSPORT, headers=()) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/graphql", subprotocols=[protocol], headers=list(headers))
    if address is not None:
        communicator.scope["client"] = (address, 50000)  # what daphne and uvicorn put in the scope
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _init(socket, key: str) -> None:
    await socket.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})


async def _ready(key: str, address: str | None = None) -> WebsocketCommunicator:
    socket = await _socket(address)
    await _init(socket, key)
    assert await socket.receive_json_from() == {"type": "connection_ack"}
    return socket


async def _answer(socket, op_id: str, query: str, variables=None) -> dict:
    """The operation's `next` payload, or its `error` payload (a list)."""
    await socket.send_json_to({"id": op_id, "type": "subscribe", "payload": {"query": query,
                                                                            "variables": variables or {}}})
    message = await socket.receive_json_from(timeout=5)
    assert message["id"] == op_id
    if message["type"] == "next":
        assert await socket.receive_json_from() == {"id": op_id, "type": "complete"}
    return message["payload"]


# --- refused credentials at connection_init --------------------------------------------------------
async def test_refused_credentials_count_per_address_and_a_blocked_one_gets_4429(settings):
    settings.RATE_LIMIT_UNAUTHENTICATED = "1/3"
    tenant = await sync_to_async(tenant_make)()
    key = await sync_to_async(api_key_make)(tenant)
    address = _address()
    codes = []
    for n in range(4):
        socket = await _socket(address)
        await _init(socket, f"eva_guess_{n}")
        codes.append(await socket_close_code(socket))
    assert codes == [4403, 4403, 4403, 4429]
    # Blocked: even good credentials are refused, before they are checked.
    socket = await _socket(address)
    await _init(socket, key)
    assert await socket_close_code(socket) == 4429
    legacy = await _socket(address, LEGACY)
    await _init(legacy, key)
    assert (await legacy.receive_json_from())["type"] == "connection_error"
    assert await socket_close_code(legacy) == 4429
    # Another address is not affected; nor is the same address's limit spent by a good init.
    await (await _ready(key, _address())).disconnect()


async def test_a_socket_without_credentials_counts_too(settings):
    settings.RATE_LIMIT_UNAUTHENTICATED = "1/2"
    address = _address()
    codes = []
    for _ in range(3):
        socket = await _socket(address)
        await socket.send_json_to({"type": "connection_init"})
        codes.append(await socket_close_code(socket))
    assert codes == [4403, 4403, 4429]


async def test_the_address_is_the_forwarded_one_only_behind_a_trusted_proxy(settings):
    settings.RATE_LIMIT_UNAUTHENTICATED = "1/1"
    settings.TRUSTED_PROXIES = ["10.99.0.0/16"]
    tenant = await sync_to_async(tenant_make)()
    key = await sync_to_async(api_key_make)(tenant)
    proxy, client = "10.99.0.7", _address()
    forwarded = [(b"x-forwarded-for", client.encode())]
    for expected in (4403, 4429):
        socket = await _socket(proxy, headers=forwarded)
        await _init(socket, "eva_guess")
        assert await socket_close_code(socket) == expected
    # The client behind the proxy is blocked; another client through the same proxy is not.
    socket = await _socket(proxy, headers=forwarded)
    await _init(socket, key)
    assert await socket_close_code(socket) == 4429
    other = await _socket(proxy, headers=[(b"x-forwarded-for", _address().encode())])
    await _init(other, key)
    assert await other.receive_json_from() == {"type": "connection_ack"}
    await other.disconnect()
    # From an untrusted peer the header is ignored: the peer itself is counted.
    untrusted = _address()
    for expected in (4403, 4429):
        socket = await _socket(untrusted, headers=[(b"x-forwarded-for", _address().encode())])
        await _init(socket, "eva_guess")
        assert await socket_close_code(socket) == expected


# --- forbidden answers --------------------------------------------------------------------------------
async def test_an_answer_with_forbidden_errors_counts_once_against_the_address(settings):
    settings.RATE_LIMIT_UNAUTHENTICATED = "1/3"
    tenant = await sync_to_async(tenant_make)()
    reader = await sync_to_async(api_key_make)(tenant, scopes=["spaces:read"])
    socket = await _ready(reader, _address())
    probe = "query($id: UUID!) { webhook(id: $id) { url } queryRun(id: $id) { question } }"
    for n in range(4):
        answer = await _answer(socket, f"p{n}", probe, {"id": str(uuid.uuid4())})
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["forbidden", "forbidden"]
    refused = await _answer(socket, "after", "{ spaces { edges { node { id } } } }")
    assert refused[0]["extensions"]["code"] == "rate_limited"
    await socket.disconnect()
    # Answers without forbidden errors cost nothing.
    socket = await _ready(reader, _address())
    for n in range(5):
        assert "errors" not in await _answer(socket, f"ok{n}", "{ spaces { edges { node { id } } } }")
    await socket.disconnect()


# --- the rate limit, the cost limit, messages --------------------------------------------------------
def _creates(count: int, prefix: str) -> str:
    fields = " ".join(f'm{n}: createSpace(input: {{name: "{prefix} {n}"}}) {{ space {{ id }} }}' for n in range(count))
    return f"mutation {{ {fields} }}"


async def test_each_root_mutation_counts_as_one_request(settings):
    settings.RATE_LIMIT_TIERS = "free=6/10,basic=600/50,pro=6000/200,enterprise=unlimited"
    tenant = await sync_to_async(tenant_make)(tier="free")
    socket = await _ready(await sync_to_async(api_key_make)(tenant))
    assert "errors" not in await _answer(socket, "three", _creates(3, "Three"))
    refused = await _answer(socket, "eight", _creates(8, "Eight"))
    assert refused[0]["extensions"]["code"] == "rate_limited"
    refused = await _answer(socket, "many", _creates(250, "Many"))
    assert refused[0]["extensions"] == {"code": "too_many_mutations", "mutations": 250, "limit": 10}
    spaces, _ = await sync_to_async(space_list)(tenant=tenant, limit=100, continuation=None)
    assert sorted(space.name for space in spaces) == ["Three 0", "Three 1", "Three 2"]
    await socket.disconnect()


async def test_the_cost_counts_variables_as_execution_reads_them():
    tenant = await sync_to_async(tenant_make)()
    socket = await _ready(await sync_to_async(api_key_make)(tenant))
    costly = "spaces(first: $n) { edges { node { documents(first: 20) { edges { node { filename } } } } } }"
    for op_id, query, variables in (("float", f"query($n: Int) {{ {costly} }}", {"n": 50.0}),
                                    ("default", f"query($n: Int = 50) {{ {costly} }}", {})):
        refused = await _answer(socket, op_id, query, variables)
        assert refused[0]["extensions"] == {"code": "query_too_costly", "cost": 2151, "limit": 1000}
    await socket.disconnect()


@pytest.mark.parametrize("payload", [{"variables": 0}, {"variables": False}, {"variables": ""},
                                     {"operationName": 0}, {"operationName": []}])
async def test_variables_that_are_not_an_object_or_null_close_with_4400(payload):
    tenant = await sync_to_async(tenant_make)()
    socket = await _ready(await sync_to_async(api_key_make)(tenant))
    await socket.send_json_to({"id": "a", "type": "subscribe", "payload": {"query": "{ __typename }", **payload}})
    assert await socket_close_code(socket) == 4400


async def test_a_message_nests_no_deeper_than_an_http_body_and_metadata_no_deeper_than_32():
    tenant = await sync_to_async(tenant_make)()
    key = await sync_to_async(api_key_make)(tenant)
    socket = await _ready(key)
    create = ("mutation($m: JSON) { createSpace(input: {name: \"Deep\", metadata: $m}) "
              "{ space { id } errors { field code message } } }")
    metadata = json.loads('{"a": ' * 400 + "1" + "}" * 400)
    await socket.send_json_to({"id": "deep", "type": "subscribe", "payload": {"query": create,
                                                                             "variables": {"m": metadata}}})
    assert await socket_close_code(socket) == 4400
    socket = await _ready(key)
    literal = "{a: " * 33 + "1" + "}" * 33
    answer = await _answer(socket, "literal", "mutation { createSpace(input: {name: \"Deep\", metadata: "
                                              f"{literal}}}) {{ space {{ id }} errors {{ field code }} }} }}")
    assert answer["data"]["createSpace"] == {"space": None, "errors": [{"field": "metadata",
                                                                        "code": "validation_error"}]}
    spaces, _ = await sync_to_async(space_list)(tenant=tenant, limit=10, continuation=None)
    assert spaces == []
    await socket.disconnect()
