from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from evaapi import health
from evaapi.graphql.view import graphql_view

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.health_ready, name="health-ready"),
    path("api/v1/", include("evaapi.auth.api.urls")),
    path("api/v1/", include("evaapi.events.api.urls")),
    path("api/v1/", include("spaces.api.urls")),
    path("api/v1/", include("documents.api.urls")),
    path("api/v1/", include("spaces.queries.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("graphql", graphql_view, name="graphql"),
    # The API's description is public: no credentials, no rate limit.
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[], throttle_classes=[]),
        name="openapi",
    ),
    path(
        "docs",
        # The split view serves its script from a URL instead of inline: the page's CSP allows no inline script.
        SpectacularSwaggerSplitView.as_view(
            url_name="openapi", authentication_classes=[], permission_classes=[], throttle_classes=[]
        ),
        name="docs",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "evaapi.http.errors.bad_request"
handler403 = "evaapi.http.errors.permission_denied"
handler404 = "evaapi.http.errors.page_not_found"
handler500 = "evaapi.http.errors.server_error"
