"""The HTTP side of webhook delivery: one async client for a long-running worker process.

A `WebhookSender` sends many attempts at once over one aiohttp session: connections are reused,
at most WEBHOOK_CONCURRENCY requests are in flight in total and WEBHOOK_CONCURRENCY_PER_ENDPOINT
per endpoint (a slow endpoint queues its own attempts, not everyone's). Every outcome, refusal,
timeout and connection error included, comes back as a `SendResult`; nothing is raised for a
receiver's behaviour, and its text (the response body, an error that quotes a header) is text any
store takes: an attempt that could not be recorded would be sent again and again, never logged.

Where a request may go is decided when it connects, not only when its URL was registered
(webhooks/safety.py): the session's resolver resolves a name as usual and then drops every
address `address_allowed` refuses, so a name rebound to 127.0.0.1 or to a cloud metadata address
gets no connection. aiohttp does not resolve a literal IP address (it connects to it directly),
so `send` checks those itself before the request. Redirects are not followed, cookies are not
kept, no proxy or .netrc from the environment is used, and nothing but the given headers,
Content-Type and User-Agent is sent.
"""

import asyncio
import codecs
import contextlib
import dataclasses
import ipaddress
import logging
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from yarl import URL

from webhooks.safety import address_allowed
from webhooks.signing import HEADER_SIGNATURE

logger = logging.getLogger(__name__)

USER_AGENT = "EVA-Webhooks/1.0"
RESPONSE_BODY_LIMIT = 20 * 1024  # bytes of a response body kept for the attempt log
TRUNCATION_MARKER = f"\n[truncated: only the first {RESPONSE_BODY_LIMIT} bytes of the response body are kept]"
REDACTED = "[redacted]"
_FIXED_HEADERS = {"content-type", "user-agent"}  # always ours, whatever the caller's headers say

# SendResult.error_class values. None: the receiver answered 2xx.
ERROR_REFUSED_ADDRESS = "refused_address"  # the host is (or resolves only to) addresses not allowed
ERROR_DNS = "dns"  # the name does not resolve
ERROR_CONNECT = "connect"  # refused, unreachable, reset while connecting
ERROR_SSL = "ssl"  # TLS handshake or certificate verification failed
ERROR_TIMEOUT = "timeout"  # no connection within the connect timeout, or no full response within the total one
ERROR_DISCONNECTED = "disconnected"  # the receiver closed the connection before a full response
ERROR_PROTOCOL = "protocol"  # the response was not valid HTTP
ERROR_INVALID_URL = "invalid_url"  # not an absolute http(s) URL, or it carries credentials
ERROR_REDIRECT = "redirect"  # 3xx: not followed
ERROR_HTTP = "http_error"  # any other non-2xx status
ERROR_INTERNAL = "internal_error"  # EVA failed handling the attempt (a bug): counted as a failed attempt

# Codecs Python counts as text encodings that are not a charset of a body: they read escapes in
# the bytes (a body could then spell any code point, lone surrogates too) or cannot decode at all.
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "utf-7", "idna", "punycode", "undefined"})


class AddressRefused(OSError):
    """A delivery's host has no address it may connect to (see webhooks/safety.py)."""


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""  # decoded, at most RESPONSE_BODY_LIMIT bytes' worth, plus TRUNCATION_MARKER if cut
    latency_ms: float = 0.0
    error_class: str | None = None
    error_message: str | None = None
    retry_after_seconds: float | None = None  # a 429's or 503's Retry-After, if it had a valid one

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers as stored and logged: the signature replaced by "[redacted]"."""
    return {name: REDACTED if name.lower() == HEADER_SIGNATURE else value for name, value in headers.items()}


def retry_after_parse(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP date (a date in the past is 0);
    None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)  # no int(): a receiver's 5,000 digits are more than int() reads (inf here)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT; parsedate leaves "-0000" naive
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class AllowedAddressResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then keeps only the addresses a delivery may
    connect to. With none left, raises AddressRefused (aiohttp wraps it in a
    ClientConnectorDNSError; `send` reports it as refused_address)."""

    def __init__(self, resolver: AbstractResolver | None = None):
        self._resolver = resolver or aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
                      ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family=family)
        allowed = [result for result in results if _resolved_allowed(result["host"], host)]
        if not allowed:
            addresses = ", ".join(sorted({result["host"] for result in results}))
            raise AddressRefused(f"{host} resolves only to addresses deliveries may not connect to ({addresses}); "
                                 "WEBHOOK_ALLOWED_TARGETS admits exceptions")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


def _resolved_allowed(address: str, host: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return address_allowed(parsed, host=host)


def _literal_address_refusal(host: str) -> str | None:
    """Why a literal IP host may not be connected to, or None if it may (or is a name)."""
    # aiohttp connects without resolving to any host it takes for an IP address: anything with a
    # colon, or only digits and dots. The same test here, so no host slips between the two.
    if ":" not in host and not host.replace(".", "").isdigit():
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"{host} is not a valid IP address"
    if not address_allowed(address, host=host):
        return (f"{host} is not a public address (loopback, private, link-local, reserved...); "
                "WEBHOOK_ALLOWED_TARGETS admits exceptions")
    return None


class _EndpointSlots:
    """One semaphore per endpoint, dropped when no attempt of that endpoint holds or awaits it."""

    def __init__(self, limit: int):
        self._limit = limit
        self._slots: dict[str, _Slot] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str):
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(asyncio.Semaphore(self._limit))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)


@dataclass
class _Slot:
    semaphore: asyncio.Semaphore
    users: int = 0


class WebhookSender:
    """Sends webhook attempts; create it inside the worker's running event loop, share it between
    all the attempts of that loop, and `await close()` it at the end (or use `async with`)."""

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        concurrency_per_endpoint: int | None = None,
        connect_timeout_seconds: float | None = None,
        timeout_seconds: float | None = None,
    ):
        concurrency = concurrency or settings.WEBHOOK_CONCURRENCY
        self._connect_timeout = connect_timeout_seconds or settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
        self._timeout = timeout_seconds or settings.WEBHOOK_TIMEOUT_SECONDS
        self._endpoint_slots = _EndpointSlots(concurrency_per_endpoint or settings.WEBHOOK_CONCURRENCY_PER_ENDPOINT)
        # Waiting happens here, not in aiohttp's pool, whose wait would count against the timeout.
        self._total_slots = asyncio.Semaphore(concurrency)
        self._resolver = AllowedAddressResolver()
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0, resolver=self._resolver)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout, sock_connect=self._connect_timeout),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxy, no .netrc credentials from the environment
            headers={"User-Agent": USER_AGENT},
        )
        self._closed = False

    async def __aenter__(self) -> "WebhookSender":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._session.close()
        await self._resolver.close()

    async def send(self, *, url: str, headers: dict[str, str], body: bytes, endpoint_key: str) -> SendResult:
        """POSTs `body` with `headers` to `url`. Waits for a slot of `endpoint_key` (the endpoint's
        id) and one of the total first; latency counts from then. Never raises (but for
        cancellation): whatever happened is in the result, to be recorded."""
        try:
            result = await self._send(url=url, headers=headers, body=body, endpoint_key=endpoint_key)
        except Exception as exc:
            logger.exception("sending a webhook attempt to %s failed inside EVA", url)
            result = SendResult(status_code=None, error_class=ERROR_INTERNAL,
                                error_message=f"EVA could not handle this attempt: {exc.__class__.__name__}: {exc}")
        return dataclasses.replace(result, response_body=_text_storable(result.response_body),
                                   error_message=_text_storable(result.error_message))

    async def _send(self, *, url: str, headers: dict[str, str], body: bytes, endpoint_key: str) -> SendResult:
        try:
            target = URL(url)
        except (TypeError, ValueError) as exc:
            return SendResult(status_code=None, error_class=ERROR_INVALID_URL, error_message=f"invalid URL: {exc}")
        if target.scheme not in ("http", "https") or not target.raw_host:
            return SendResult(status_code=None, error_class=ERROR_INVALID_URL,
                              error_message="the URL must be absolute http(s) with a host")
        if target.user is not None or target.password is not None:
            return SendResult(status_code=None, error_class=ERROR_INVALID_URL,
                              error_message="the URL must not carry credentials")
        refusal = _literal_address_refusal(target.raw_host)
        if refusal is not None:
            return SendResult(status_code=None, error_class=ERROR_REFUSED_ADDRESS, error_message=refusal)

        async with self._endpoint_slots.hold(endpoint_key), self._total_slots:
            return await self._post(target, headers, body)

    async def _post(self, target: URL, headers: dict[str, str], body: bytes) -> SendResult:
        request_headers = {name: value for name, value in headers.items() if name.lower() not in _FIXED_HEADERS}
        request_headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT})
        started = time.perf_counter()

        def failed(error_class: str, message: str) -> SendResult:
            return SendResult(status_code=None, latency_ms=(time.perf_counter() - started) * 1000,
                              error_class=error_class, error_message=message)

        try:
            async with self._session.post(target, data=body, headers=request_headers, allow_redirects=False) as resp:
                raw, truncated = await _read_capped(resp)
                status = resp.status
                response_headers = _headers_dict(resp.headers)
                charset = resp.charset
                location = resp.headers.get("Location", "")
                retry_after = resp.headers.get("Retry-After")
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, AddressRefused):
                return failed(ERROR_REFUSED_ADDRESS, str(exc.os_error))
            return failed(ERROR_DNS, f"cannot resolve {exc.host}: {exc.os_error}")
        except aiohttp.ConnectionTimeoutError:
            return failed(ERROR_TIMEOUT, f"no connection within {self._connect_timeout:g} s")
        except TimeoutError:
            return failed(ERROR_TIMEOUT, f"no complete response within {self._timeout:g} s")
        except aiohttp.ClientSSLError as exc:
            return failed(ERROR_SSL, str(exc))
        except aiohttp.ClientConnectorError as exc:
            return failed(ERROR_CONNECT, str(exc))
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionResetError, ConnectionResetError) as exc:
            return failed(ERROR_DISCONNECTED, str(exc) or exc.__class__.__name__)
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            return failed(ERROR_PROTOCOL, str(exc) or exc.__class__.__name__)
        except aiohttp.InvalidURL as exc:
            return failed(ERROR_INVALID_URL, str(exc))
        except aiohttp.ClientError as exc:
            return failed(ERROR_CONNECT, str(exc) or exc.__class__.__name__)
        latency_ms = (time.perf_counter() - started) * 1000

        text = _decoded(raw, charset)
        if truncated:
            text += TRUNCATION_MARKER
        error_class = error_message = None
        if 300 <= status < 400:
            error_class = ERROR_REDIRECT
            error_message = f"HTTP {status}: redirects are not followed (Location: {location})"
        elif not 200 <= status < 300:
            error_class, error_message = ERROR_HTTP, f"HTTP {status}"
        return SendResult(status_code=status, response_headers=response_headers, response_body=text,
                          latency_ms=latency_ms, error_class=error_class, error_message=error_message,
                          retry_after_seconds=retry_after_parse(retry_after) if status in (429, 503) else None)


async def _read_capped(resp: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The body's first RESPONSE_BODY_LIMIT bytes, and whether there was more. The rest is not
    read: that connection is closed instead of reused."""
    chunks, size = [], 0
    while size <= RESPONSE_BODY_LIMIT:
        chunk = await resp.content.read(RESPONSE_BODY_LIMIT + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:RESPONSE_BODY_LIMIT], size > RESPONSE_BODY_LIMIT


def _headers_dict(headers: Mapping[str, str]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers.items():
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def _codec(charset: str | None) -> str:
    """The codec of a response's charset if it is a text encoding, else UTF-8 (what a JSON or
    text body most likely is): base64 or rot13 name transforms of bytes, not text."""
    if charset:
        try:
            info = codecs.lookup(charset)
        except LookupError:
            return "utf-8"
        if info._is_text_encoding and info.name not in _NOT_CHARSETS:
            return info.name
    return "utf-8"


def _decoded(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(_codec(charset), errors="replace")
    except UnicodeError:  # a codec that refuses errors="replace"
        return raw.decode("utf-8", errors="replace")


def _text_storable(text: str | None) -> str | None:
    """`text` with each lone surrogate (a decoder's or aiohttp's surrogateescape of a header's bytes)
    replaced by U+FFFD: JSON stores refuse them, as UTF-8 cannot encode them."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
