from django.contrib import admin
from django.urls import include, path

from evaapi import health

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/ready", health.health_ready, name="health-ready"),
    path("api/v1/", include("evaapi.auth.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "evaapi.http.errors.bad_request"
handler403 = "evaapi.http.errors.permission_denied"
handler404 = "evaapi.http.errors.page_not_found"
handler500 = "evaapi.http.errors.server_error"
