"""DRF authentication: API keys (`Authorization: Bearer eva_…` or `X-API-Key`), local login
tokens and Entra ID tokens (`Authorization: Bearer <JWT>`)."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from evaapi.auth.services.principals import principal_for
from evaapi.exceptions import Forbidden, NotAuthenticated


def credentials_of(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip() or None


class EvaAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = credentials_of(request)
        if raw is None:
            return None
        try:
            principal = principal_for(credentials=raw)
        except NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        except Forbidden as exc:
            raise exceptions.PermissionDenied(exc.message) from None
        return principal, None

    def authenticate_header(self, request):
        if credentials_of(request) is None:
            return 'Bearer realm="evaapi"'
        return 'Bearer realm="evaapi", error="invalid_token"'
