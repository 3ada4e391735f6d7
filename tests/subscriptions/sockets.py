"""What the in-process WebSocket tests share."""

from channels.testing import WebsocketCommunicator


async def socket_close_code(socket: WebsocketCommunicator) -> int:
    """The close code, after whatever the socket sent before closing."""
    while True:
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return message.get("code")
