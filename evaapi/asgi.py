"""ASGI entry point: daphne serves HTTP and WebSocket through one ProtocolTypeRouter."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evaapi.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before anything that imports models or settings-dependent code.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from evaapi.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
