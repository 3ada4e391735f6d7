"""ASGI entry point: HTTP and WebSocket through one ProtocolTypeRouter (served by evaapi.serve)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evaapi.settings")

import django

# Django must be set up before anything that imports models or settings-dependent code.
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from documents.api.urls import UPLOAD_PATH  # noqa: E402
from evaapi.collector import collector_tune  # noqa: E402
from evaapi.http.asgi import EvaASGIHandler, RequestBodyGuard  # noqa: E402
from evaapi.routing import websocket_urlpatterns  # noqa: E402
from subscriptions_app.origin import OriginValidator  # noqa: E402

# Settings that are parsed lazily (rate-limit tiers, trusted proxies, ...) are checked now, so
# a bad value stops the server at start-up instead of failing its first request.
_problems = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
if _problems:
    raise ImproperlyConfigured("system checks failed:\n" + "\n".join(map(str, _problems)))

application = ProtocolTypeRouter(
    {
        "http": RequestBodyGuard(
            EvaASGIHandler(),
            max_bytes=settings.MAX_REQUEST_BODY_BYTES,
            # An upload's form carries the file and a little more (field names, metadata).
            larger={("POST", UPLOAD_PATH): settings.EVA_MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024},
        ),
        "websocket": OriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

collector_tune()
