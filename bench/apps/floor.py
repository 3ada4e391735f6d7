"""The Django floor for bench/http.py: the least a Django ASGI application can do per request.

One async view at /health returning EVA's `/health` JSON with JsonResponse; no middleware, no
installed apps, DEBUG off, Django's stock `get_asgi_application()`. It configures its own
settings (settings.configure), so EVA's settings, apps and middleware are never loaded. EVA's
rows are read against this one: what EVA adds on top of Django itself."""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-floor-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_TZ=True,
)

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

from evaapi import __version__  # noqa: E402


async def health(request):
    return JsonResponse({"status": "healthy", "version": __version__})


urlpatterns = [path("health", health)]

application = get_asgi_application()
