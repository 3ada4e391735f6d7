"""The project's middleware (settings.MIDDLEWARE). Every class here runs natively in async and
sync stacks: under the ASGI server none of them moves a request onto a thread. Django's own
MiddlewareMixin classes run each hook through a thread hop under ASGI, so the ones every
request needs are run inline here (their hooks do no I/O), and the browser ones (sessions,
CSRF, messages) run for the admin only."""

import logging
import time
from typing import NamedTuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.http import Http404
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware
from django.utils.module_loading import import_string
from whitenoise.middleware import WhiteNoiseMiddleware

from evaapi.http.asgi import BODY_REFUSED
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
    """Runs natively in both sync and async stacks, so async views stay async under ASGI.

    Subclasses implement `before` (returns any state), `early_response` (a response that
    replaces the view's, or None), `after` (may replace the response) and `cleanup` (always
    runs)."""

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
            response = self.early_response(request) or self.get_response(request)
            return self.after(request, response, state)
        finally:
            self.cleanup(state)

    async def _acall(self, request):
        state = self.before(request)
        try:
            response = self.early_response(request) or await self.get_response(request)
            return self.after(request, response, state)
        finally:
            self.cleanup(state)

    def before(self, request):
        return None

    def early_response(self, request):
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
        if not response.streaming and not response.has_header("Content-Length"):
            # A length lets the server send the body whole instead of in chunks.
            response["Content-Length"] = str(len(response.content))
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
    """Turns every error response not already in the project's shape (Django's 405, debug 404
    pages, ...) into it, answers unhandled view exceptions with a logged 500, and refuses what
    must not reach a view: a Host not in ALLOWED_HOSTS, a body refused unread (413)."""

    def early_response(self, request):
        limit = getattr(request, "scope", {}).get(BODY_REFUSED)
        if limit:
            # The rest of the body was never read: the connection cannot carry another request.
            return error_response(413, message=f"The request body is larger than {limit} bytes.",
                                  headers={"Connection": "close"})
        try:
            # Django checks the Host only when something asks for it; API views never do.
            request.get_host()
        except DisallowedHost:
            return error_response(400, code="bad_host", message="The Host header names a host this server does "
                                  "not serve.")
        return None

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


class SecurityMiddleware(HybridMiddleware):
    """Django's SecurityMiddleware (HSTS, nosniff, referrer policy, ...), run inline, plus the
    Content-Security-Policy of every HTML page (the admin, the API docs)."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.django = DjangoSecurityMiddleware(get_response)

    def early_response(self, request):
        return self.django.process_request(request)

    def after(self, request, response, state):
        response = self.django.process_response(request, response)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class StaticFilesMiddleware(HybridMiddleware):
    """WhiteNoise, for requests under STATIC_URL only: it is sync-only, so in the stack it
    would move every request onto a thread and back."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.whitenoise = WhiteNoiseMiddleware(get_response)
        self.prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL

    def __call__(self, request):
        if not request.path.startswith(self.prefix):
            return self.get_response(request)
        if self.is_async:
            return self._serve_async(request)
        return self._static_response(request) or self.get_response(request)

    async def _serve_async(self, request):
        # Looking the file up touches the disk: off the event loop.
        response = await sync_to_async(self._static_response, thread_sensitive=False)(request)
        return response or await self.get_response(request)

    def _static_response(self, request):
        """WhiteNoise's own lookup and response (its __call__ without the pass-through)."""
        whitenoise = self.whitenoise
        if whitenoise.autorefresh:
            static_file = whitenoise.find_file(request.path_info)
        else:
            static_file = whitenoise.files.get(request.path_info)
        return None if static_file is None else whitenoise.serve(static_file, request)


class AdminMiddleware(HybridMiddleware):
    """settings.ADMIN_MIDDLEWARE around requests under ADMIN_URL; every other request skips it.

    Django calls `process_view` hooks only of the middleware in settings.MIDDLEWARE, so this
    one passes them on (CSRF checks a form in its process_view), for admin requests only."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.prefix = "/" + settings.ADMIN_URL
        chain, view_hooks = get_response, []
        for path in reversed(settings.ADMIN_MIDDLEWARE):
            # Given an async get_response, Django's middleware builds its async form.
            chain = import_string(path)(chain)
            if hasattr(chain, "process_view"):
                view_hooks.insert(0, chain.process_view)
        self.admin_chain = chain
        self.view_hooks = view_hooks
        # Set per mode, so Django calls it without adapting it (an adapted hook is a thread hop
        # for every request).
        self.process_view = self._process_view_async if self.is_async else self._process_view

    def __call__(self, request):
        if request.path.startswith(self.prefix):
            return self.admin_chain(request)
        return self.get_response(request)

    def _process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith(self.prefix):
            return None
        for hook in self.view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None

    async def _process_view_async(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith(self.prefix):
            return None
        return await sync_to_async(self._process_view)(request, view_func, view_args, view_kwargs)
