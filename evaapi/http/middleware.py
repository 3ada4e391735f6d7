import logging
import time
from typing import NamedTuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import PermissionDenied
from django.http import Http404

from evaapi.http.client_ip import client_ip
from evaapi.http.context import (
    request_id_from_header,
    reset_client_ip,
    reset_request_id,
    set_client_ip,
    set_request_id,
)
from evaapi.http.errors import error_response, is_error_shaped, service_error_response
from evaapi.store.metrics import StoreCalls, store_calls_close, store_calls_open

logger = logging.getLogger("evaapi.request")

# Headers a converted error response keeps from the original.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class HybridMiddleware:
    """Runs natively in both sync and async stacks, so async views stay async under daphne.

    Subclasses implement `before` (returns any state), `after` (may replace the response)
    and `cleanup` (always runs)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        state = self.before(request)
        try:
            return self.after(request, self.get_response(request), state)
        finally:
            self.cleanup(state)

    async def _acall(self, request):
        state = self.before(request)
        try:
            return self.after(request, await self.get_response(request), state)
        finally:
            self.cleanup(state)

    def before(self, request):
        return None

    def after(self, request, response, state):
        return response

    def cleanup(self, state):
        pass


class _RequestScope(NamedTuple):
    started: float
    calls: StoreCalls
    tokens: tuple


class RequestIdMiddleware(HybridMiddleware):
    """Gives every request an id (a well-formed incoming X-Request-ID is honoured), puts it in the
    response and every log line, notes the client IP (for audit entries and limits), and writes
    one log line per request with its store calls."""

    def before(self, request):
        request.request_id = request_id_from_header(request.headers.get("X-Request-ID"))
        request.client_ip = client_ip(request)
        calls, calls_token = store_calls_open()
        return _RequestScope(
            started=time.perf_counter(),
            calls=calls,
            tokens=(calls_token, set_request_id(request.request_id), set_client_ip(request.client_ip)),
        )

    def after(self, request, response, state):
        started, calls = state.started, state.calls
        response["X-Request-ID"] = request.request_id
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "client_ip": request.client_ip,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "store_calls": calls.calls,
                "store_request_charge": round(calls.request_charge, 2),
            },
        )
        return response

    def cleanup(self, state):
        calls_token, request_id_token, client_ip_token = state.tokens
        store_calls_close(calls_token)
        reset_request_id(request_id_token)
        reset_client_ip(client_ip_token)


class ErrorShapeMiddleware(HybridMiddleware):
    """Turns every error response not already in the project's shape (Django's 405, CSRF 403,
    debug 404 pages, ...) into it, and answers unhandled view exceptions with a logged 500."""

    def after(self, request, response, state):
        if response.status_code < 400 or is_error_shaped(response):
            return response
        headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
        details = {}
        if "Allow" in headers:
            details["allowed_methods"] = [m.strip() for m in headers["Allow"].split(",")]
        return error_response(response.status_code, details=details, headers=headers)

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)):
            return None  # Django's handler404/handler403 answer these in our shape.
        shaped = service_error_response(exception)
        if shaped is not None:
            return shaped
        logger.exception("unhandled exception", extra={"path": request.path})
        return error_response(500, message="An unexpected error occurred; it has been logged with this request id.")


class RateLimitHeadersMiddleware(HybridMiddleware):
    """X-RateLimit-Limit/Remaining/Reset on every response whose request was rate limited
    (the limiter leaves its result on the request), 429s included."""

    def after(self, request, response, state):
        result = getattr(request, "rate_limit", None)
        if result is not None:
            response["X-RateLimit-Limit"] = str(result.limit)
            response["X-RateLimit-Remaining"] = str(result.remaining)
            response["X-RateLimit-Reset"] = str(result.reset_seconds)
        return response
