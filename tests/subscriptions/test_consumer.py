"""GraphQL over WebSocket, in process: the ASGI application with channels' WebsocketCommunicator,
the real Redis channel layer and the real store. The protocol (graphql-transport-ws and the
legacy graphql-ws), every close code, auth, limits, each subscription, tenant walls, resume."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.services import document_process, document_upload
from evaapi.asgi import application
from evaapi.auth.services.api_keys import api_key_revoke
from spaces.queries.domain import QueryParameters
from spaces.queries.services import query_run, query_submit
from spaces.services import space_create, space_update
from tests.factories import api_key_make, tenant_make
from tests.subscriptions.sockets import socket_close_code

pytestmark = pytest.mark.django_db(transaction=True)
TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"


@pytest.fixture
def owner():
    tenant = tenant_make()
    return tenant, api_key_make(tenant)


async def _socket(protocol=TRANSPORT, headers=()) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/graphql", subprotocols=[protocol], headers=list(headers))
    connected, subprotocol = await communicator.connect()
    assert connected
    assert subprotocol == protocol
    return communicator


async def _ready(key: str, protocol=TRANSPORT) -> WebsocketCommunicator:
    socket = await _socket(protocol)
    await socket.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
    assert await socket.receive_json_from() == {"type": "connection_ack"}
    if protocol == LEGACY:
        assert await socket.receive_json_from() == {"type": "ka"}
    return socket


async def _subscribe(socket, op_id: str, query: str, variables=None) -> None:
    await socket.send_json_to({"id": op_id, "type": "subscribe", "payload": {"query": query,
                                                                            "variables": variables or {}}})


async def _quiet(socket, seconds: float = 0.3) -> bool:
    return await socket.receive_nothing(timeout=seconds)


# --- the protocol ----------------------------------------------------------------------------------
async def test_an_unknown_subprotocol_is_refused_at_the_handshake():
    communicator = WebsocketCommunicator(application, "/graphql", subprotocols=["chat"])
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_foreign_origin_is_refused_and_no_origin_or_an_allowed_one_is_not(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    for origin, allowed in ((b"https://evil.example.net", False), (b"https://app.example.com", True),
                            (b"http://testserver", True)):
        communicator = WebsocketCommunicator(application, "/graphql", subprotocols=[TRANSPORT],
                                             headers=[(b"origin", origin), (b"host", b"testserver")])
        connected, _ = await communicator.connect()
        assert connected is allowed, origin
        await communicator.disconnect()
    communicator = WebsocketCommunicator(application, "/graphql", subprotocols=[TRANSPORT])
    assert (await communicator.connect())[0]
    await communicator.disconnect()


async def test_ping_pong_and_a_query_over_the_socket(owner):
    tenant, key = owner
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="Over the socket")
    socket = await _ready(key)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await _subscribe(socket, "q1", "{ spaces { edges { node { name } } } }")
    assert await socket.receive_json_from() == {"id": "q1", "type": "next", "payload": {
        "data": {"spaces": {"edges": [{"node": {"name": "Over the socket"}}]}}}}
    assert await socket.receive_json_from() == {"id": "q1", "type": "complete"}
    await _subscribe(socket, "q2", "{ nothing }")
    error = await socket.receive_json_from()
    assert (error["id"], error["type"], error["payload"][0]["extensions"]["code"]) == (
        "q2", "error", "graphql_validation_failed")
    await socket.disconnect()


@pytest.mark.parametrize(("messages", "code"), [
    (["not json"], 4400),
    (['{"type": "connection_init", "payload": {"n": NaN}}'], 4400),
    (['{"type": "connection_init", "payload": {"n": "\\ud800"}}'], 4400),
    ([json.dumps({"no": "type"})], 4400),
    ([json.dumps({"type": "what"})], 4400),
    ([json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ spaces { edges { node { id } } } }"}})],
     4401),
    (["INIT", "INIT"], 4429),
    (["INIT", json.dumps({"id": "1", "type": "subscribe"})], 4400),
    (["INIT", "SUB", "SUB"], 4409),
])
async def test_each_protocol_violation_closes_with_its_code(owner, messages, code):
    _, key = owner
    socket = await _socket()
    subscription = {"id": "a", "type": "subscribe", "payload": {
        "query": "subscription { events { id } }"}}
    for message in messages:
        text = {"INIT": json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}),
                "SUB": json.dumps(subscription)}.get(message, message)
        await socket.send_to(text_data=text)
    assert await socket_close_code(socket) == code


async def test_bad_credentials_are_4403_and_none_sent_in_time_is_4408(owner, settings):
    socket = await _socket()
    await socket.send_json_to({"type": "connection_init", "payload": {"Authorization": "Bearer eva_not_a_key"}})
    assert await socket_close_code(socket) == 4403
    settings.GRAPHQL_WS_INIT_TIMEOUT_SECONDS = 0.2
    socket = await _socket()
    assert await socket_close_code(socket) == 4408


async def test_credentials_from_an_api_key_field_or_the_upgrade_header(owner):
    _, key = owner
    socket = await _socket()
    await socket.send_json_to({"type": "connection_init", "payload": {"apiKey": key}})
    assert await socket.receive_json_from() == {"type": "connection_ack"}
    await socket.disconnect()
    socket = await _socket(headers=[(b"authorization", f"Bearer {key}".encode())])
    await socket.send_json_to({"type": "connection_init"})
    assert await socket.receive_json_from() == {"type": "connection_ack"}
    await socket.disconnect()


async def test_a_message_over_the_limit_is_1009_and_a_store_failure_is_4500(owner, settings):
    _, key = owner
    settings.GRAPHQL_WS_MAX_MESSAGE_BYTES = 1000
    socket = await _ready(key)
    await _subscribe(socket, "big", "{ spaces { edges { node { id } } } }" + " " * 1000)
    assert await socket_close_code(socket) == 1009
    # The store unreachable while a socket authenticates: an internal error, not a hang.
    from evaapi.store import store

    settings.EVA_STORE_BACKEND, settings.COSMOS_ENDPOINT = "cosmos", "http://127.0.0.1:9/"
    store.cache_clear()
    try:
        socket = await _socket()
        await socket.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        assert await socket_close_code(socket) == 4500
    finally:
        settings.EVA_STORE_BACKEND = "sqlite"
        store.cache_clear()


async def test_two_unanswered_pings_close_the_socket(owner, settings):
    _, key = owner
    settings.GRAPHQL_WS_PING_INTERVAL_SECONDS = 0.1
    socket = await _ready(key)
    assert await socket.receive_json_from() == {"type": "ping"}
    assert await socket.receive_json_from() == {"type": "ping"}
    assert await socket_close_code(socket) == 1011


async def test_a_revoked_key_ends_its_socket(owner, settings):
    tenant, key = owner
    settings.GRAPHQL_WS_AUTH_RECHECK_SECONDS = 0.2
    socket = await _ready(key)
    await sync_to_async(api_key_revoke)(tenant=tenant, actor="test", key_id=key[4:16])
    assert await socket_close_code(socket) == 4403


async def test_at_most_so_many_operations_on_a_socket(owner, settings):
    _, key = owner
    settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS = 2
    socket = await _ready(key)
    for n in range(2):
        await _subscribe(socket, f"s{n}", "subscription { events { id } }")
    await _subscribe(socket, "s2", "subscription { events { id } }")
    refused = await socket.receive_json_from()
    assert (refused["id"], refused["payload"][0]["extensions"]["code"]) == ("s2", "too_many_subscriptions")
    await socket.send_json_to({"id": "s0", "type": "complete"})
    await asyncio.sleep(0.05)
    await _subscribe(socket, "s3", "subscription { events { id } }")
    assert await _quiet(socket)  # accepted: no error
    await socket.disconnect()


async def test_a_tenant_holds_at_most_its_socket_limit(owner, settings):
    _, key = owner
    settings.GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT = 2
    first, second = await _ready(key), await _ready(key)
    third = await _socket()
    await third.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
    assert await socket_close_code(third) == 4403
    await first.disconnect()
    fourth = await _ready(key)  # its place was freed
    await fourth.disconnect()
    await second.disconnect()


# --- subscriptions ---------------------------------------------------------------------------------
async def test_an_upload_gives_document_added_then_its_processed_update(owner):
    tenant, key = owner
    space = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Uploads")
    socket = await _ready(key)
    await _subscribe(socket, "added", "subscription($s: UUID!) { documentAdded(spaceId: $s) { id filename status "
                                      "space { name } } }", {"s": space.id})
    await _subscribe(socket, "updated", "subscription($s: UUID!) { documentUpdated(spaceId: $s) { id status "
                                        "chunkCount } }", {"s": space.id})
    assert await _quiet(socket, 0.2)
    document = await sync_to_async(document_upload)(
        tenant=tenant, actor="test", space_id=space.id, file=SimpleUploadedFile("notes.txt", b"Hello there. " * 20),
        filename="notes.txt")
    added = await socket.receive_json_from()
    assert added == {"id": "added", "type": "next", "payload": {"data": {"documentAdded": {
        "id": document.id, "filename": "notes.txt", "status": "UPLOADED", "space": {"name": "Uploads"}}}}}
    await sync_to_async(document_process)(tenant_id=tenant.id, document_id=document.id)
    updated = await socket.receive_json_from(timeout=5)
    assert updated["id"] == "updated"
    assert updated["payload"]["data"]["documentUpdated"]["status"] == "PROCESSED"
    assert updated["payload"]["data"]["documentUpdated"]["chunkCount"] >= 1
    await socket.disconnect()


async def test_a_query_gives_its_updates_and_query_completed(owner):
    tenant, key = owner
    space = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Questions")
    socket = await _ready(key)
    await _subscribe(socket, "done", "subscription($t: String!) { queryCompleted(tenantId: $t) { id status "
                                     "result { answer } } }", {"t": tenant.id})
    run = await sync_to_async(query_submit)(tenant=tenant, actor="test", space_id=space.id, question="Anything?",
                                            parameters=QueryParameters())
    await _subscribe(socket, "one", "subscription($id: UUID!) { queryUpdates(id: $id) { id status } }",
                     {"id": run.id})
    assert await _quiet(socket, 0.2)
    await sync_to_async(query_run)(space_id=space.id, query_id=run.id)
    received = {}
    for _ in range(2):
        message = await socket.receive_json_from(timeout=5)
        received[message["id"]] = message["payload"]["data"]
    assert received["done"]["queryCompleted"]["id"] == run.id
    assert received["done"]["queryCompleted"]["status"] == "COMPLETED"
    assert received["one"]["queryUpdates"] == {"id": run.id, "status": "COMPLETED"}
    await socket.disconnect()


async def test_another_tenants_things_are_errors_and_its_events_never_arrive(owner):
    tenant, key = owner
    other = await sync_to_async(tenant_make)()
    theirs = await sync_to_async(space_create)(tenant=other, actor="test", name="Theirs")
    socket = await _ready(key)
    for op_id, query, variables in (
        ("space", "subscription($s: UUID!) { documentAdded(spaceId: $s) { id } }", {"s": theirs.id}),
        ("tenant", "subscription($t: String!) { spaceEvents(tenantId: $t) { id } }", {"t": other.id}),
        ("query", "subscription($t: String!) { queryCompleted(tenantId: $t) { id } }", {"t": other.id}),
    ):
        await _subscribe(socket, op_id, query, variables)
        error = await socket.receive_json_from()
        assert (error["id"], error["type"], error["payload"][0]["extensions"]["code"]) == (op_id, "error", "not_found")
    await _subscribe(socket, "mine", "subscription { events { type spaceId } }")
    await sync_to_async(space_update)(tenant=other, actor="test", space_id=theirs.id, changes={"name": "Still theirs"})
    mine = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Mine")
    message = await socket.receive_json_from(timeout=5)  # the first event to arrive is its own
    assert message["payload"]["data"]["events"] == {"type": "space.created", "spaceId": mine.id}
    assert await _quiet(socket)
    await socket.disconnect()


async def test_a_resumed_subscription_gets_each_missed_event_once_then_live_ones(owner):
    tenant, key = owner
    socket = await _ready(key)
    await _subscribe(socket, "live", "subscription { events(types: [\"space.*\"]) { id type data } }")
    assert await _quiet(socket, 0.2)  # the protocol has no "subscribed": give it a moment to listen
    first = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Seen")
    seen = (await socket.receive_json_from(timeout=5))["payload"]["data"]["events"]
    assert seen["data"]["space_id"] == first.id
    await socket.disconnect()
    # Away: three changes happen.
    for name in ("Missed 1", "Missed 2", "Missed 3"):
        await sync_to_async(space_create)(tenant=tenant, actor="test", name=name)
    socket = await _ready(key)
    await _subscribe(socket, "resume", "subscription($after: UUID) { events(types: [\"space.*\"], after: $after) "
                                       "{ id type data } }", {"after": seen["id"]})
    replayed = [(await socket.receive_json_from(timeout=5))["payload"]["data"]["events"] for _ in range(3)]
    assert [e["data"]["name"] for e in replayed] == ["Missed 1", "Missed 2", "Missed 3"]
    live = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Live again")
    message = (await socket.receive_json_from(timeout=5))["payload"]["data"]["events"]
    assert message["data"]["space_id"] == live.id
    assert await _quiet(socket)  # nothing twice
    await _subscribe(socket, "unknown", "subscription { events(after: \"00000000-0000-4000-8000-000000000000\") "
                                        "{ id } }")
    error = await socket.receive_json_from()
    assert (error["id"], error["payload"][0]["extensions"]["code"]) == ("unknown", "not_found")
    await socket.disconnect()


async def test_a_slow_subscriber_loses_the_oldest_events_and_is_told():
    """A stream holds GRAPHQL_WS_QUEUE_SIZE events; past it the oldest go, and the subscriber
    reads a Dropped marker (an `events_dropped` error in its next message) before the newest."""
    from evaapi.events.domain import event_make
    from subscriptions_app.streams import Dropped, EventStream

    closed = []

    async def on_close(stream):
        closed.append(stream)

    stream = EventStream(groups=["tenant.t", "space.s"], types=["space.*"], capacity=2, on_close=on_close)
    events = [event_make(type="space.created", tenant_id="t", space_id=f"s{n}", data={"space_id": f"s{n}",
                                                                                      "name": f"n{n}"})
              for n in range(5)]
    for event in events:
        stream.offer(event)
        stream.offer(event)  # through a second group: the same event again
    assert await stream.__anext__() == Dropped(3)
    assert [(await stream.__anext__()).id for _ in range(2)] == [events[3].id, events[4].id]
    await stream.aclose()
    assert closed == [stream]


# --- the legacy protocol ---------------------------------------------------------------------------
async def test_the_legacy_graphql_ws_protocol(owner):
    tenant, key = owner
    socket = await _ready(key, LEGACY)
    await socket.send_json_to({"id": "1", "type": "start", "payload": {
        "query": f'subscription {{ spaceEvents(tenantId: "{tenant.id}") {{ type }} }}'}})
    await socket.send_json_to({"id": "2", "type": "start",
                               "payload": {"query": "{ spaces { edges { node { id } } } }"}})
    assert await socket.receive_json_from() == {"id": "2", "type": "data",
                                                "payload": {"data": {"spaces": {"edges": []}}}}
    assert await socket.receive_json_from() == {"id": "2", "type": "complete"}
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="Legacy")
    assert await socket.receive_json_from(timeout=5) == {"id": "1", "type": "data", "payload": {
        "data": {"spaceEvents": {"type": "space.created"}}}}
    await socket.send_json_to({"id": "1", "type": "stop"})
    await asyncio.sleep(0.05)
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="After stop")
    assert await _quiet(socket)
    await socket.send_json_to({"type": "connection_terminate"})
    assert await socket_close_code(socket) == 1000


async def test_an_expiring_token_ends_its_socket_at_expiry(owner):
    from django.contrib.auth import get_user_model

    from evaapi.auth.models import TenantMembership
    from evaapi.auth.tokens import local_token_encode

    tenant, _ = owner

    def member_token() -> str:
        user = get_user_model().objects.create_user(username=f"ws-{tenant.id[:8]}", password="a long password 1")
        TenantMembership.objects.create(user=user, tenant_id=tenant.id, scopes=["spaces:read"])
        return local_token_encode(user_id=user.id, tenant_id=tenant.id, scopes=["spaces:read"],
                                  password_hash=user.password, lifetime=2)

    token = await sync_to_async(member_token)()
    socket = await _ready(token)
    started = asyncio.get_running_loop().time()
    assert await socket_close_code(socket) == 4403
    assert asyncio.get_running_loop().time() - started < 4


async def test_one_event_to_many_subscribers_in_a_process_reads_its_object_once(owner, caplog):
    """documentAdded yields the Document: its subscribers in one process share one read of it.
    Each socket logs its store calls when it closes; a shared read counts for one of them."""
    tenant, key = owner
    space = await sync_to_async(space_create)(tenant=tenant, actor="test", name="Fan-out")
    calls = {}
    for subscribers in (1, 5):
        caplog.clear()
        sockets = [await _ready(key) for _ in range(subscribers)]
        for socket in sockets:
            await _subscribe(socket, "a", "subscription($s: UUID!) { documentAdded(spaceId: $s) { id } }",
                             {"s": space.id})
        await asyncio.sleep(0.3)
        document = await sync_to_async(document_upload)(
            tenant=tenant, actor="test", space_id=space.id, filename=f"f{subscribers}.txt",
            file=SimpleUploadedFile("f.txt", f"Fan-out text {subscribers}. ".encode() * 10))
        for socket in sockets:
            message = await socket.receive_json_from(timeout=5)
            assert message["payload"]["data"]["documentAdded"]["id"] == document.id
        for socket in sockets:
            await socket.disconnect()
        closed = [r for r in caplog.records if r.getMessage() == "socket closed"]
        assert len(closed) == subscribers
        calls[subscribers] = sum(r.store_calls_by.get("read documents", 0) for r in closed)
    assert calls == {1: 1, 5: 1}


async def test_an_idle_socket_outlives_the_channel_layers_blocking_read(owner):
    """The layer reads its channel with a 5 s blocking call; a Redis socket timeout no longer
    than that would kill an idle subscriber's consumer (redis-py's default is 5 s)."""
    tenant, key = owner
    socket = await _ready(key)
    await _subscribe(socket, "idle", "subscription { events { type } }")
    assert await socket.receive_nothing(timeout=7)
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="After a quiet while")
    assert (await socket.receive_json_from(timeout=5))["payload"]["data"]["events"]["type"] == "space.created"
    await socket.disconnect()


async def test_a_process_is_one_member_of_a_group_however_many_of_its_sockets_listen(owner):
    """Each server process joins a group once for all of its sockets (subscriptions_app.groups):
    an event is one message per process, not one per subscriber. The process leaves the group
    with its last listener."""
    from channels.layers import get_channel_layer

    tenant, key = owner
    layer = get_channel_layer()
    group_key = layer._group_key(f"tenant.{tenant.id}")

    async def members() -> int:
        return await layer.connection(layer.consistent_hash(f"tenant.{tenant.id}")).zcard(group_key)

    sockets = [await _ready(key) for _ in range(3)]
    for socket in sockets:
        await _subscribe(socket, "a", "subscription { events { type } }")
        await _subscribe(socket, "b", 'subscription { events(types: ["space.created"]) { id } }')
    await asyncio.sleep(0.3)
    assert await members() == 1
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="To every listener")
    for socket in sockets:
        received = {(await socket.receive_json_from(timeout=5))["id"] for _ in range(2)}
        assert received == {"a", "b"}
    for socket in sockets[:2]:
        await socket.disconnect()
    assert await members() == 1  # the third socket still listens
    await sockets[2].send_json_to({"id": "a", "type": "complete"})
    await sockets[2].send_json_to({"id": "b", "type": "complete"})
    await asyncio.sleep(0.3)
    assert await members() == 0
    await sockets[2].disconnect()


async def test_a_process_joins_its_groups_again_when_redis_forgot_them(owner, monkeypatch):
    """The layer forgets a member at its group expiry, and a Redis that lost its data forgets
    them all: each process renews its memberships every GROUP_RENEW_SECONDS."""
    from channels.layers import get_channel_layer

    from subscriptions_app import groups

    monkeypatch.setattr(groups, "GROUP_RENEW_SECONDS", 0.2)
    tenant, key = owner
    layer = get_channel_layer()
    group = f"tenant.{tenant.id}"
    connection = layer.connection(layer.consistent_hash(group))
    socket = await _ready(key)
    await _subscribe(socket, "a", "subscription { events { type } }")
    await asyncio.sleep(0.1)
    assert await connection.zcard(layer._group_key(group)) == 1
    await connection.delete(layer._group_key(group))  # as a flush would
    await asyncio.sleep(0.5)
    assert await connection.zcard(layer._group_key(group)) == 1
    await sync_to_async(space_create)(tenant=tenant, actor="test", name="After Redis forgot")
    assert (await socket.receive_json_from(timeout=5))["payload"]["data"]["events"]["type"] == "space.created"
    await socket.disconnect()
