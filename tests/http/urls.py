"""Views that exercise the error paths; mounted only by tests."""

from django.urls import include, path
from django.views.decorators.http import require_POST
from rest_framework import serializers
from rest_framework.response import Response

from evaapi.api.views import ApiView


def boom(request):
    raise RuntimeError("kaboom")


@require_POST
def post_only(request):
    raise AssertionError("never reached by GET")


class EchoInput(serializers.Serializer):
    name = serializers.CharField(max_length=10)


class EchoApi(ApiView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class UndeclaredApi(ApiView):
    """Declares GET only; its POST must be refused (scopes fail closed)."""

    required_scopes = {"GET": "audit:read"}

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("undeclared", UndeclaredApi.as_view()),
    path("boom", boom),
    path("post-only", post_only),
    path("echo", EchoApi.as_view()),
    path("", include("evaapi.urls")),
]
