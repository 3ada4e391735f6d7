"""EVA's ASGI application plus one WebSocket route, for the multi-process channel-layer test:
each socket joins one group and says which server process holds it."""

import os

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from evaapi.asgi import application as eva_application

GROUP = "test-broadcast"


class BroadcastConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"pid": os.getpid()})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def broadcast(self, event):
        await self.send_json({"pid": os.getpid(), "text": event["text"]})


application = ProtocolTypeRouter(
    {
        "http": eva_application.application_mapping["http"],
        "websocket": URLRouter([path("ws/broadcast", BroadcastConsumer.as_asgi())]),
    }
)
