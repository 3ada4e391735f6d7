"""The one error shape: {"error": {"code", "message", "details"}, "request_id"}.

Every error response of the project (DRF views, plain Django views, Django's own
400/403/404/500 handlers, responses Django builds itself such as 405) goes through
`error_response`.
"""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_default_handler

from evaapi.exceptions import ServiceError
from evaapi.http.context import current_request_id
from evaapi.store import InvalidQuery, StoreError, StoreUnavailable

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("django.security")

ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    425: "too_early",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def code_for_status(status: int) -> str:
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    return "client_error" if status < 500 else "server_error"


def error_body(status: int, *, code: str | None = None, message: str | None = None, details=None) -> dict:
    return {
        "error": {
            "code": code or code_for_status(status),
            "message": message or HTTPStatus(status).phrase,
            "details": details if details is not None else {},
        },
        "request_id": current_request_id(),
    }


def error_response(status: int, *, code: str | None = None, message: str | None = None, details=None, headers=None):
    body = error_body(status, code=code, message=message, details=details)
    response = JsonResponse(body, status=status, headers=headers)
    response.is_error_shaped = True
    return response


def is_error_shaped(response) -> bool:
    return getattr(response, "is_error_shaped", False)


def service_error_response(exc: Exception):
    """The response for an error a service or the store raised, or None for anything else."""
    if isinstance(exc, ServiceError):
        return error_response(exc.status, code=exc.code, message=exc.message, details=exc.details,
                              headers=exc.headers)
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, message="The request body is too large.")
    if isinstance(exc, SuspiciousOperation):
        # Malformed or hostile input, not a bug: one warning line, no traceback.
        security_logger.warning("%s: %s", type(exc).__name__, exc)
        if isinstance(exc, TooManyFieldsSent):
            return error_response(400, code="too_many_parameters",
                                  message=f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query or form "
                                  "parameters.")
        if isinstance(exc, DisallowedHost):
            return error_response(400, code="bad_host", message="The Host header names a host this server does "
                                  "not serve.")
        return error_response(400, message="The request is malformed.")
    if isinstance(exc, InvalidQuery):
        return error_response(400, code="invalid_query", message=str(exc))
    if isinstance(exc, StoreError):
        if isinstance(exc, StoreUnavailable):  # throttled or unreachable, worth a retry
            logger.warning("store unavailable: %s", exc)
            return error_response(503, message="The data store is unavailable; try again shortly.")
        if exc.status >= 500:  # the store refused what we asked: a bug, not an outage
            logger.error("store error: %s", exc, exc_info=exc)
            return error_response(500, message="An unexpected error occurred; it has been logged with this request id.")
        return error_response(exc.status)
    return None


def drf_exception_handler(exc, context):
    shaped = service_error_response(exc)
    if shaped is not None:
        return shaped
    response = drf_default_handler(exc, context)
    if response is None:
        # Not an API exception: let Django's 500 handling log it and answer in our shape.
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        code, message, details = "validation_error", "The request is not valid.", exc.detail
    elif isinstance(exc, drf_exceptions.Throttled):
        code, message, details = "rate_limited", "Too many requests; see Retry-After.", {"retry_after": exc.wait}
    elif isinstance(exc, drf_exceptions.MethodNotAllowed):
        code, message = "method_not_allowed", str(exc.detail)
        details = {"allowed_methods": context["view"].allowed_methods}
    else:
        detail = getattr(exc, "detail", None)
        # One code per status across the project; for a 400, DRF's own (parse_error) says more.
        code = code_for_status(response.status_code)
        if response.status_code == 400:
            code = getattr(detail, "code", None) or code
        message = str(detail) if detail else HTTPStatus(response.status_code).phrase
        details = {}
    response.data = error_body(response.status_code, code=code, message=message, details=details)
    response.is_error_shaped = True
    return response


# Django's handlerXXX views (wired in evaapi/urls.py).
def bad_request(request, exception=None):
    return error_response(400, message="The request is malformed.")


def permission_denied(request, exception=None):
    return error_response(403, message="You do not have permission to do this.")


def page_not_found(request, exception=None):
    return error_response(404, message="Nothing is found at this address.")


def server_error(request):
    return error_response(500, message="An unexpected error occurred; it has been logged with this request id.")
