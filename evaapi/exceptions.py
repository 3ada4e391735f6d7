"""Errors services raise. The API layers (DRF, GraphQL) turn them into the one error shape
with the status each carries; services never build HTTP responses."""


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


class InvalidInput(ServiceError):
    status = 400
    code = "validation_error"


class NotAuthenticated(ServiceError):
    status = 401
    code = "unauthenticated"

    def __init__(self, message: str, **kwargs):
        # Every 401 says how to authenticate (RFC 9110).
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="evaapi"'})
        super().__init__(message, **kwargs)


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class ResourceNotFound(ServiceError):
    status = 404
    code = "not_found"


class ResourceConflict(ServiceError):
    status = 409
    code = "conflict"


class VersionMismatch(ServiceError):
    """If-Match named a version that is no longer the current one."""

    status = 412
    code = "precondition_failed"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class TooEarly(ServiceError):
    """The thing asked for is not there yet; ask again after Retry-After."""

    status = 425
    code = "too_early"

    def __init__(self, message: str, *, retry_after: int, details: dict | None = None):
        super().__init__(message, details=details, headers={"Retry-After": str(retry_after)})


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(ServiceError):
    status = 503
    code = "service_unavailable"
