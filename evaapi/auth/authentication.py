"""DRF authentication: API keys (`Authorization: Bearer eva_…` or `X-API-Key`), local login
tokens and Entra ID tokens (`Authorization: Bearer <JWT>`)."""

import jwt
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from evaapi.auth import services
from evaapi.exceptions import Forbidden, NotAuthenticated


def credentials_of(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip() or None


def principal_for(raw: str):
    """The principal of presented credentials; raises NotAuthenticated or Forbidden."""
    if raw.startswith("eva_"):
        return services.api_key_authenticate(raw_key=raw)
    try:
        # Routing only: which verifier to use. Each verifier accepts only its own algorithm,
        # so a token claiming the local issuer cannot be checked with an Entra key or vice versa.
        issuer = jwt.decode(raw, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise NotAuthenticated("Malformed credentials.") from None
    if issuer == services.LOCAL_TOKEN_ISSUER:
        return services.principal_from_local_token(token=raw)
    return services.principal_from_entra(token=raw)


class EvaAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = credentials_of(request)
        if raw is None:
            return None
        try:
            principal = principal_for(raw)
        except NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        except Forbidden as exc:
            raise exceptions.PermissionDenied(exc.message) from None
        return principal, None

    def authenticate_header(self, request):
        if credentials_of(request) is None:
            return 'Bearer realm="evaapi"'
        return 'Bearer realm="evaapi", error="invalid_token"'
