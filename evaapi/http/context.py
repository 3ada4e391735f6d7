"""The request id and client IP of the work in progress (an HTTP request or a job), for logs,
errors and audit entries."""

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)

# Honour a caller's id only when it is short and plain: it lands in headers and logs verbatim.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id_from_header(value: str | None) -> str:
    if value and _WELL_FORMED.match(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_client_ip() -> str | None:
    return _client_ip.get()


def set_client_ip(value: str | None) -> contextvars.Token:
    return _client_ip.set(value)


def reset_client_ip(token: contextvars.Token) -> None:
    _client_ip.reset(token)
