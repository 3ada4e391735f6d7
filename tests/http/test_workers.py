"""Several server processes on one port: a WebSocket message sent to a group reaches the
group's sockets on every process, through the Redis channel layer."""

import asyncio
import json
import uuid

from channels.layers import get_channel_layer
from websockets.asyncio.client import connect

from tests.http.conftest import api_server
from tests.http.ws_app import GROUP


async def test_a_group_message_reaches_sockets_on_every_worker_process():
    with api_server(app="tests.http.ws_app:application", workers=2) as url:
        ws_url = url.replace("http://", "ws://") + "/ws/broadcast"
        sockets, pids = [], {}
        try:
            # Whichever process is free accepts the next connection, and the second one may still
            # be starting: open sockets (keeping two per process) until both hold some.
            deadline = asyncio.get_running_loop().time() + 60
            while len(pids) < 2 or min(pids.values()) < 2:
                assert asyncio.get_running_loop().time() < deadline, f"connections reached only {pids}"
                socket = await connect(ws_url)
                pid = json.loads(await asyncio.wait_for(socket.recv(), 10))["pid"]
                if pids.get(pid, 0) >= 2:
                    await socket.close()
                    await asyncio.sleep(0.05)
                    continue
                pids[pid] = pids.get(pid, 0) + 1
                sockets.append(socket)
            text = uuid.uuid4().hex
            await get_channel_layer().group_send(GROUP, {"type": "broadcast", "text": text})
            received = [json.loads(await asyncio.wait_for(s.recv(), 10)) for s in sockets]
        finally:
            for socket in sockets:
                await socket.close()
    assert [message["text"] for message in received] == [text] * len(sockets)
    assert {message["pid"] for message in received} == set(pids)
