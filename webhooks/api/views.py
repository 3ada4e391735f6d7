"""Thin views: parse input, call one service or selector, shape output. Every endpoint needs
the `webhooks:manage` scope."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from evaapi.api.pagination import PageInput, page_body, page_schema
from evaapi.api.schema import error_responses
from evaapi.api.views import ApiView, input_valid
from evaapi.auth import scopes
from webhooks import selectors, services
from webhooks.api.serializers import (
    AttemptLogOutput,
    DeadLetterListInput,
    DeadLetterOutput,
    DeliveryListInput,
    DeliveryOutput,
    LogListInput,
    RecoverInput,
    RotateInput,
    WebhookInput,
    WebhookOutput,
    WebhookPatchInput,
    WebhookWithSecretOutput,
)

_NO_STORE = {"Cache-Control": "no-store"}  # a response with a secret must not be cached
MANAGE = scopes.WEBHOOKS_MANAGE


def _with_secret(endpoint, secret, *, status_code=status.HTTP_200_OK, headers=None) -> Response:
    return Response({**WebhookOutput(endpoint).data, "secret": secret}, status=status_code,
                    headers={**_NO_STORE, **(headers or {})})


class WebhookListCreateApi(ApiView):
    required_scopes = {"GET": MANAGE, "POST": MANAGE}

    @extend_schema(parameters=[PageInput], responses={200: page_schema("WebhookPage", WebhookOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["webhooks"], operation_id="webhook_list")
    def get(self, request):
        page = input_valid(PageInput, request.query_params)
        endpoints, continuation = selectors.endpoint_list(tenant=request.user.tenant, limit=page["limit"],
                                                          continuation=page.get("continuation"))
        return Response(page_body(endpoints, continuation, WebhookOutput))

    @extend_schema(request=WebhookInput, responses={201: WebhookWithSecretOutput,
                   **error_responses(400, 401, 403, 429)}, tags=["webhooks"], operation_id="webhook_create")
    def post(self, request):
        data = input_valid(WebhookInput, request.data)
        endpoint, secret = services.endpoint_create(tenant=request.user.tenant, actor=request.user.actor, **data)
        return _with_secret(endpoint, secret, status_code=status.HTTP_201_CREATED,
                            headers={"Location": f"/api/v1/webhooks/{endpoint.id}"})


class WebhookDetailApi(ApiView):
    required_scopes = {"GET": MANAGE, "PUT": MANAGE, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses={200: WebhookOutput, **error_responses(401, 403, 404, 429)}, tags=["webhooks"],
                   operation_id="webhook_get")
    def get(self, request, webhook_id: str):
        return Response(WebhookOutput(selectors.endpoint_get(tenant=request.user.tenant, webhook_id=webhook_id)).data)

    def _update(self, request, webhook_id: str, changes: dict) -> Response:
        endpoint = services.endpoint_update(tenant=request.user.tenant, actor=request.user.actor,
                                            webhook_id=webhook_id, changes=changes)
        return Response(WebhookOutput(endpoint).data)

    @extend_schema(request=WebhookInput, responses={200: WebhookOutput, **error_responses(400, 401, 403, 404, 429)},
                   tags=["webhooks"], operation_id="webhook_replace")
    def put(self, request, webhook_id: str):
        return self._update(request, webhook_id, dict(input_valid(WebhookInput, request.data)))

    @extend_schema(request=WebhookPatchInput, responses={200: WebhookOutput,
                   **error_responses(400, 401, 403, 404, 429)}, tags=["webhooks"], operation_id="webhook_update")
    def patch(self, request, webhook_id: str):
        return self._update(request, webhook_id, dict(input_valid(WebhookPatchInput, request.data)))

    @extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}, tags=["webhooks"],
                   operation_id="webhook_delete")
    def delete(self, request, webhook_id: str):
        services.endpoint_delete(tenant=request.user.tenant, actor=request.user.actor, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookLogsApi(ApiView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(parameters=[LogListInput], responses={200: page_schema("WebhookLogPage", AttemptLogOutput),
                   **error_responses(400, 401, 403, 404, 429)}, tags=["webhooks"], operation_id="webhook_logs")
    def get(self, request, webhook_id: str):
        data = input_valid(LogListInput, request.query_params)
        logs, continuation = selectors.log_list(
            tenant=request.user.tenant, webhook_id=webhook_id, outcome=data.get("status"),
            event_type=data.get("event_type"), limit=data["limit"], continuation=data.get("continuation"))
        return Response(page_body(logs, continuation, AttemptLogOutput))


class WebhookTestApi(ApiView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(request=None, responses={202: inline_serializer("WebhookTestResult", {
                   "delivery_id": serializers.CharField()}), **error_responses(401, 403, 404, 409, 429)},
                   tags=["webhooks"], operation_id="webhook_test")
    def post(self, request, webhook_id: str):
        delivery_id = services.endpoint_test(tenant=request.user.tenant, actor=request.user.actor,
                                             webhook_id=webhook_id)
        return Response({"delivery_id": delivery_id}, status=status.HTTP_202_ACCEPTED,
                        # The endpoint's deliveries, newest first: there is no filter by delivery.
                        headers={"Location": f"/api/v1/webhooks/{webhook_id}/deliveries"})


class WebhookDeliveriesApi(ApiView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(parameters=[DeliveryListInput], responses={200: page_schema("DeliveryPage", DeliveryOutput),
                   **error_responses(400, 401, 403, 404, 429)}, tags=["webhooks"], operation_id="webhook_deliveries")
    def get(self, request, webhook_id: str):
        data = input_valid(DeliveryListInput, request.query_params)
        deliveries, continuation = selectors.delivery_list(
            tenant=request.user.tenant, webhook_id=webhook_id, status=data.get("status"), limit=data["limit"],
            continuation=data.get("continuation"))
        return Response(page_body(deliveries, continuation, DeliveryOutput))


class DeliveryRetryApi(ApiView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(request=None, responses={202: DeliveryOutput, **error_responses(401, 403, 404, 409, 429)},
                   tags=["webhooks"], operation_id="webhook_delivery_retry")
    def post(self, request, webhook_id: str, delivery_id: str):
        delivery = services.delivery_retry(tenant=request.user.tenant, actor=request.user.actor,
                                           webhook_id=webhook_id, delivery_id=delivery_id)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookRecoverApi(ApiView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(request=RecoverInput, responses={202: inline_serializer("WebhookRecoverResult", {
                   "deliveries": serializers.IntegerField()}), **error_responses(400, 401, 403, 404, 429)},
                   tags=["webhooks"], operation_id="webhook_recover")
    def post(self, request, webhook_id: str):
        data = input_valid(RecoverInput, request.data)
        count = services.deliveries_recover(tenant=request.user.tenant, actor=request.user.actor,
                                            webhook_id=webhook_id, since=data["since"], until=data["until"])
        return Response({"deliveries": count}, status=status.HTTP_202_ACCEPTED)


class WebhookRotateSecretApi(ApiView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(request=RotateInput, responses={200: WebhookWithSecretOutput,
                   **error_responses(400, 401, 403, 404, 409, 429)}, tags=["webhooks"],
                   operation_id="webhook_rotate_secret")
    def post(self, request, webhook_id: str):
        data = input_valid(RotateInput, request.data)
        endpoint, secret = services.endpoint_rotate_secret(tenant=request.user.tenant, actor=request.user.actor,
                                                           webhook_id=webhook_id, grace_hours=data["grace_hours"])
        return _with_secret(endpoint, secret)


class DeadLetterListApi(ApiView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(parameters=[DeadLetterListInput], responses={200: page_schema("DeadLetterPage", DeadLetterOutput),
                   **error_responses(400, 401, 403, 429)}, tags=["webhooks"], operation_id="webhook_dead_letters")
    def get(self, request):
        data = input_valid(DeadLetterListInput, request.query_params)
        letters, continuation = selectors.dead_letter_list(
            tenant=request.user.tenant, webhook_id=str(data["webhook_id"]) if data.get("webhook_id") else None,
            limit=data["limit"], continuation=data.get("continuation"))
        return Response(page_body(letters, continuation, DeadLetterOutput))


class DeadLetterReplayApi(ApiView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(request=None, responses={202: DeliveryOutput, **error_responses(401, 403, 404, 409, 429)},
                   tags=["webhooks"], operation_id="webhook_dead_letter_replay")
    def post(self, request, letter_id: str):
        delivery = services.dead_letter_replay(tenant=request.user.tenant, actor=request.user.actor,
                                               letter_id=letter_id)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
