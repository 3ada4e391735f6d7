"""Liveness (`/health`, no I/O) and readiness (`/health/ready`, every configured dependency).

Readiness checks run in parallel, each bounded by READINESS_TIMEOUT_SECONDS; an app adds its
dependency by adding a `(name, callable)` to READINESS_CHECKS. What failed is logged in full;
the public answer names the failing checks and a short reason, and only a caller with the
admin scope sees the errors themselves."""

import contextvars
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from evaapi.exceptions import ServiceError
from evaapi.http.errors import error_response
from evaapi.redis import redis_client
from evaapi.store import store

logger = logging.getLogger(__name__)


def check_redis() -> None:
    redis_client().ping()


def check_store() -> None:
    store().ping()


READINESS_CHECKS: list[tuple[str, callable]] = [("redis", check_redis), ("store", check_store)]

_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readiness")


def _timed(check):
    started = time.perf_counter()
    check()
    return round((time.perf_counter() - started) * 1000, 2)


def readiness_run() -> dict[str, dict]:
    timeout = settings.READINESS_TIMEOUT_SECONDS
    # Each check runs in a copy of this request's context, so its store calls count for it.
    futures = {
        name: _executor.submit(contextvars.copy_context().run, _timed, check) for name, check in READINESS_CHECKS
    }
    deadline = time.monotonic() + timeout
    results = {}
    for name, future in futures.items():
        try:
            duration = future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = {"status": "ok", "duration_ms": duration}
        except FutureTimeout:
            results[name] = {"status": "failed", "reason": "timeout", "error": f"no answer within {timeout:g}s"}
        except Exception as exc:
            results[name] = {"status": "failed", "reason": "unavailable", "error": f"{type(exc).__name__}: {exc}"}
    return results


@require_GET
async def health(request):
    return JsonResponse({"status": "healthy", "version": settings.VERSION})


def _is_operator(request) -> bool:
    """Whether the request carries credentials with the admin scope (never an error: a probe
    with bad credentials just gets the public answer)."""
    from evaapi.auth.authentication import credentials_of
    from evaapi.auth.services.principals import principal_for

    credentials = credentials_of(request)
    if credentials is None:
        return False
    try:
        return principal_for(credentials=credentials).has_scope("admin")
    except ServiceError:
        return False


@require_GET
def health_ready(request):
    results = readiness_run()
    failed = sorted(name for name, result in results.items() if result["status"] != "ok")
    if not failed:
        return JsonResponse({"status": "ready", "checks": results})
    for name in failed:
        logger.warning("readiness check %s failed: %s", name, results[name]["error"])
    if not _is_operator(request):
        for name in failed:
            del results[name]["error"]
    return error_response(
        503,
        code="not_ready",
        message=f"Not ready: {', '.join(failed)} failed.",
        details={"checks": results},
    )
