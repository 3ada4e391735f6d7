"""Thin views: parse input, call one service or selector, shape output."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from evaapi.api.pagination import PageInput, page_body, page_schema
from evaapi.api.schema import error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes, selectors
from evaapi.auth.api.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    AuditEntryOutput,
    AuditLogListInput,
    LoginInput,
    LoginOutput,
)
from evaapi.auth.services.api_keys import api_key_create, api_key_revoke
from evaapi.auth.services.login import login_token_issue

# Responses that carry a secret (a new key or token) must not be kept by any cache.
_NO_STORE = {"Cache-Control": "no-store"}


class LoginApi(ApiView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # failed logins have their own limit, per username and per client IP

    @extend_schema(request=LoginInput, responses={200: LoginOutput, **error_responses(400, 401, 404, 429)},
                   auth=[], tags=["auth"], operation_id="auth_login")
    def post(self, request):
        data = input_valid(LoginInput, request.data)
        token, lifetime = login_token_issue(username=data["username"], password=data["password"])
        return Response({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}, headers=_NO_STORE)


class ApiKeyListCreateApi(ApiView):
    required_scopes = {"GET": scopes.ADMIN, "POST": scopes.ADMIN}

    @extend_schema(parameters=[PageInput], responses={200: page_schema("ApiKeyPage", ApiKeyOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["auth"], operation_id="api_key_list")
    def get(self, request):
        page = input_valid(PageInput, request.query_params)
        keys, continuation = selectors.api_key_list(
            tenant=request.user.tenant, limit=page["limit"], continuation=page.get("continuation")
        )
        return Response(page_body(keys, continuation, ApiKeyOutput))

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput,
                   **error_responses(400, 401, 403, 429)}, tags=["auth"], operation_id="api_key_create")
    def post(self, request):
        data = input_valid(ApiKeyCreateInput, request.data)
        key, secret = api_key_create(
            tenant=request.user.tenant,
            actor=request.user.actor,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            rate_limit_burst=data["rate_limit_burst"],
        )
        # The secret is in this response only; it is stored as a keyed hash.
        return Response({**ApiKeyOutput(key).data, "key": secret}, status=status.HTTP_201_CREATED, headers=_NO_STORE)


class ApiKeyDetailApi(ApiView):
    required_scopes = {"GET": scopes.ADMIN, "DELETE": scopes.ADMIN}

    @extend_schema(responses={200: ApiKeyOutput, **error_responses(401, 403, 404, 429)}, tags=["auth"],
                   operation_id="api_key_get")
    def get(self, request, key_id: str):
        return Response(ApiKeyOutput(selectors.api_key_get(tenant=request.user.tenant, key_id=key_id)).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}, tags=["auth"],
                   operation_id="api_key_revoke")
    def delete(self, request, key_id: str):
        api_key_revoke(tenant=request.user.tenant, actor=request.user.actor, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditLogListApi(ApiView):
    required_scopes = {"GET": scopes.AUDIT_READ}

    @extend_schema(parameters=[AuditLogListInput], responses={200: page_schema("AuditEntryPage", AuditEntryOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["audit"], operation_id="audit_log_list")
    def get(self, request):
        data = input_valid(AuditLogListInput, request.query_params)
        filters = {name: data[name] for name in ("actor", "action", "resource_type", "resource_id") if name in data}
        entries, continuation = selectors.audit_log_list(
            tenant=request.user.tenant, filters=filters, limit=data["limit"], continuation=data.get("continuation")
        )
        return Response(page_body(entries, continuation, AuditEntryOutput))
