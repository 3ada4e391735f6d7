"""Thin views: parse input, call one service or selector, shape output."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from evaapi.auth import scopes, selectors, services
from evaapi.auth.api.pagination import PageInput, page_body
from evaapi.auth.api.serializers import (
    ApiKeyCreateInput,
    ApiKeyOutput,
    AuditEntryOutput,
    AuditLogListInput,
    LoginInput,
)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class LoginApi(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # failed logins have their own limit, per username and per client IP

    def post(self, request):
        data = _valid(LoginInput, request.data)
        token, lifetime = services.login_token_issue(username=data["username"], password=data["password"])
        return Response({"access_token": token, "token_type": "Bearer", "expires_in": lifetime})


class ApiKeyListCreateApi(APIView):
    required_scopes = {"GET": scopes.ADMIN, "POST": scopes.ADMIN}

    def get(self, request):
        page = _valid(PageInput, request.query_params)
        keys, continuation = selectors.api_key_list(
            tenant=request.user.tenant, limit=page["limit"], continuation=page.get("continuation")
        )
        return Response(page_body(keys, continuation, ApiKeyOutput))

    def post(self, request):
        data = _valid(ApiKeyCreateInput, request.data)
        key, secret = services.api_key_create(
            tenant=request.user.tenant,
            actor=request.user.actor,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            rate_limit_burst=data["rate_limit_burst"],
        )
        # The secret is in this response only; it is stored as a keyed hash.
        return Response({**ApiKeyOutput(key).data, "key": secret}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    required_scopes = {"GET": scopes.ADMIN, "DELETE": scopes.ADMIN}

    def get(self, request, key_id: str):
        return Response(ApiKeyOutput(selectors.api_key_get(tenant=request.user.tenant, key_id=key_id)).data)

    def delete(self, request, key_id: str):
        services.api_key_revoke(tenant=request.user.tenant, actor=request.user.actor, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditLogListApi(APIView):
    required_scopes = {"GET": scopes.AUDIT_READ}

    def get(self, request):
        data = _valid(AuditLogListInput, request.query_params)
        filters = {name: data[name] for name in ("actor", "action", "resource_type", "resource_id") if name in data}
        entries, continuation = selectors.audit_log_list(
            tenant=request.user.tenant, filters=filters, limit=data["limit"], continuation=data.get("continuation")
        )
        return Response(page_body(entries, continuation, AuditEntryOutput))
