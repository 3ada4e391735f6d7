"""GraphQL over WebSocket at /graphql (the HTTP endpoint's path).

Speaks `graphql-transport-ws` (the graphql-ws library's protocol) and, for Apollo's old
WebSocketLink, the legacy `graphql-ws` subprotocol of subscriptions-transport-ws; a handshake
offering neither is refused. Queries and mutations run over the socket too. The caller
authenticates in `connection_init` (or with an Authorization header on the upgrade request) with
the same credentials as HTTP; every operation is prepared, limited and executed as over HTTP
(evaapi.graphql.execution) and counts against the tenant's rate limit.

Close codes (graphql-transport-ws): 4400 a bad message, 4401 subscribe before the ack, 4403
forbidden (bad or revoked credentials, a tenant at its connection limit), 4408 no
connection_init in time, 4409 a subscription id in use, 4429 a second connection_init or a
client address over its limit on refused credentials (evaapi.auth.refusals, as over HTTP), 4500
an internal error; 1009 a message over the size limit, 1011 two pings without a pong."""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter

import jwt
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from evaapi.api.parsers import MAX_DEPTH, JSONRefused, client_json_loads, depth_exceeds
from evaapi.auth.ratelimit import RateLimiterUnavailable
from evaapi.auth.refusals import client_refusal_check, client_refusal_count, client_refusal_guard
from evaapi.auth.services.principals import principal_for
from evaapi.concurrency import run_sync
from evaapi.events.domain import Event
from evaapi.exceptions import NotAuthenticated, RateLimited, ServiceError
from evaapi.graphql.context import GraphQLContext
from evaapi.graphql.errors import request_error
from evaapi.graphql.execution import (
    OperationRefused,
    answer_forbidden,
    operation_execute,
    operation_prepare,
    operation_rate_limit,
    operation_subscribe,
    result_formatted,
    subscription_event_execute,
)
from evaapi.http.client_ip import client_ip_of
from evaapi.store.metrics import store_calls_open
from subscriptions_app.connections import (
    connection_release,
    connection_take,
    connection_track,
    connection_untrack,
)
from subscriptions_app.groups import process_groups
from subscriptions_app.objects import once_per_event, once_per_event_start
from subscriptions_app.streams import EventStream

logger = logging.getLogger("evaapi.subscriptions")

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def _credentials(payload: dict | None, scope) -> str | None:
    """From connection_init's payload ({"Authorization": "Bearer …"} or {"apiKey": "eva_…"}),
    else from the upgrade request's Authorization header."""
    for name in ("Authorization", "authorization"):
        value = (payload or {}).get(name)
        if isinstance(value, str) and value.strip():
            scheme, _, token = value.strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else value.strip()
    api_key = (payload or {}).get("apiKey")
    if isinstance(api_key, str) and api_key.strip():
        return api_key.strip()
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _client_ip(scope) -> str | None:
    """The socket's client address by HTTP's rule (evaapi.http.client_ip: X-Forwarded-For only
    from TRUSTED_PROXIES), from the upgrade request's peer and headers; None when unknown."""
    peer = scope.get("client")
    forwarded = ",".join(value.decode("latin-1") for key, value in scope.get("headers", ())
                         if key == b"x-forwarded-for")  # several lines, joined as Django joins them
    return client_ip_of(peer[0] if peer else "", forwarded)


def _expires_at(credentials: str) -> float | None:
    """A token's expiry (its signature was checked by principal_for); None for an API key."""
    if credentials.startswith("eva_"):
        return None
    try:
        exp = jwt.decode(credentials, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return float(exp) if isinstance(exp, int | float) else None


class GraphQLConsumer(AsyncWebsocketConsumer):
    protocol = None
    # No Channels channel per socket: the process listens to the groups for all of its sockets
    # (subscriptions_app.groups), and nothing else sends to a socket.
    channel_layer_alias = None

    async def dispatch(self, message):
        # Channels' own dispatch closes Django's stale database connections before every
        # message (each ping, pong and event): a hop to its one shared sync thread per message,
        # for every socket. This consumer's database work runs through run_sync, whose pool
        # does that itself, so the hop buys nothing here.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        self.protocol = TRANSPORT_WS if TRANSPORT_WS in offered else LEGACY_WS if LEGACY_WS in offered else None
        if self.protocol is None:
            await self.close()  # before accept: the handshake is refused
            return
        self.principal = None
        self.credentials = None
        self.client_ip = _client_ip(self.scope)
        self.init_received = False
        self.closing = False
        self.operations: dict[str, asyncio.Task] = {}
        self.socket_id = uuid.uuid4().hex  # its place in the tenant's count of sockets
        self.streams: set[EventStream] = set()
        self.background: set[asyncio.Task] = set()
        self.pong_due = 0
        self.counted = False
        self.opened = time.monotonic()
        self.operations_run = 0
        # The socket's store calls, logged when it closes (as a request's are): whatever its
        # operations and subscriptions read, on whichever task.
        self.store_calls, _ = store_calls_open()
        await self.accept(self.protocol)
        self._spawn(self._init_deadline())

    # --- sending and closing -----------------------------------------------------------------
    async def _send(self, message: dict) -> None:
        await self._send_text(json.dumps(message, separators=(",", ":")))

    async def _send_text(self, text: str) -> None:
        if self.closing:
            return
        try:
            await self.send(text_data=text)
        except OSError:
            # The client went away (uvicorn's ClientDisconnected): its disconnect, already on
            # its way, cancels what is left; a ping or a delivery racing it is not an error.
            self.closing = True

    async def _close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code, reason=reason)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY_WS

    # --- receiving -------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self._close(4400, "Messages are JSON text.")
        if len(text_data.encode()) > settings.GRAPHQL_WS_MAX_MESSAGE_BYTES:
            return await self._close(1009, f"A message takes at most {settings.GRAPHQL_WS_MAX_MESSAGE_BYTES} bytes.")
        try:
            message = client_json_loads(text_data)
        except JSONRefused as exc:
            return await self._close(4400, f"Invalid message received: {exc}.")
        except (ValueError, RecursionError):
            return await self._close(4400, "Invalid message received: not JSON.")
        if depth_exceeds(message, MAX_DEPTH):  # as an HTTP body: deeper, it reaches no store
            return await self._close(4400, f"Invalid message received: it nests deeper than {MAX_DEPTH} levels.")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self._close(4400, "Invalid message received: no type.")
        handlers = self._legacy_handlers() if self.legacy else self._handlers()
        handler = handlers.get(message["type"])
        if handler is None:
            return await self._close(4400, f"Invalid message received: unknown type {message['type'][:50]!r}.")
        try:
            await handler(message)
        except Exception:
            logger.exception("a GraphQL WebSocket message failed")
            await self._close(4500, "Internal error.")

    def _handlers(self):
        return {"connection_init": self._on_init, "ping": self._on_ping, "pong": self._on_pong,
                "subscribe": self._on_subscribe, "complete": self._on_complete}

    def _legacy_handlers(self):
        return {"connection_init": self._on_init, "start": self._on_subscribe, "stop": self._on_complete,
                "connection_terminate": self._on_terminate}

    async def _on_init(self, message: dict) -> None:
        if self.init_received:
            return await self._close(4429, "Too many initialisation requests.")
        self.init_received = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            return await self._close(4400, "Invalid message received: the payload is not an object.")
        self.credentials = _credentials(payload, self.scope)
        try:
            principal = await run_sync(self._authenticate)
        except ServiceError as exc:
            if self.legacy:
                await self._send({"type": "connection_error", "payload": {"message": exc.message}})
            if isinstance(exc, RateLimited):
                return await self._close(4429, f"Too many refused requests from this address; retry after "
                                               f"{exc.details['retry_after']} s.")
            return await self._close(4403, f"Forbidden: {exc.message}"[:120])
        self.principal = principal
        connection_track(tenant_id=principal.tenant.id, socket=self.socket_id)
        await self._send({"type": "connection_ack"})
        if self.legacy:
            await self._send({"type": "ka"})
        self._spawn(self._keep_alive())
        self._spawn(self._credentials_watch())

    def _authenticate(self):
        # Refused credentials count against the client address's limit as an HTTP 401 or 403 does,
        # and an address over it is refused before its credentials are checked.
        with client_refusal_guard(self.client_ip):
            if self.credentials is None:
                raise NotAuthenticated("No credentials: send {\"Authorization\": \"Bearer …\"} in connection_init.")
            principal = principal_for(credentials=self.credentials)
        if not connection_take(tenant_id=principal.tenant.id, socket=self.socket_id):
            raise NotAuthenticated(f"This tenant holds {settings.GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT} sockets "
                                   "already.")
        self.counted = True
        return principal

    async def _on_ping(self, message: dict) -> None:
        await self._send({"type": "pong"})

    async def _on_pong(self, message: dict) -> None:
        self.pong_due = 0

    async def _on_terminate(self, message: dict) -> None:
        await self._close(1000, "Terminated.")

    async def _on_subscribe(self, message: dict) -> None:
        if self.principal is None:
            return await self._close(4401, "Unauthorized: connection_init first.")
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or len(op_id) > 200 or not isinstance(payload, dict) \
                or not isinstance(payload.get("query"), str):
            return await self._close(4400, "Invalid message received: subscribe needs an id and a payload with a "
                                           "query.")
        if op_id in self.operations:
            return await self._close(4409, f"Subscriber for {op_id} already exists.")
        variables, name = payload.get("variables"), payload.get("operationName")
        # Against None, not falsiness: 0, false and "" are not "no variables".
        if not isinstance(variables, dict | None) or not isinstance(name, str | None):
            return await self._close(4400, "Invalid message received: variables must be an object and "
                                           "operationName a string.")
        if len(self.operations) >= settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS:
            return await self._error(op_id, [request_error(
                f"At most {settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS} operations at once on one socket.",
                "too_many_subscriptions")])
        task = asyncio.create_task(self._operation(op_id, payload["query"], variables, name))
        self.operations[op_id] = task
        self.operations_run += 1
        task.add_done_callback(lambda _: self.operations.pop(op_id, None) if self.operations.get(op_id) is task
                               else None)

    async def _on_complete(self, message: dict) -> None:
        task = self.operations.pop(message.get("id"), None) if isinstance(message.get("id"), str) else None
        if task is not None:
            task.cancel()

    # --- operations ------------------------------------------------------------------------
    async def _next(self, op_id: str, result: dict) -> None:
        await self._send({"id": op_id, "type": "data" if self.legacy else "next", "payload": result})

    def _next_prefix(self, op_id: str) -> str:
        """A `next` message's text up to its payload (the payload and "}" complete it)."""
        return f'{{"id":{json.dumps(op_id)},"type":"{"data" if self.legacy else "next"}","payload":'

    def _payload_key(self, operation) -> tuple:
        """What a subscription's message for an event depends on besides the event: subscribers
        with the same key get the same message."""
        principal = self.principal
        return (principal.tenant.id, principal.scopes, operation.source,
                json.dumps(operation.variables, sort_keys=True, default=str), operation.name)

    @staticmethod
    def _payload_maker(operation, context, event):
        async def make() -> str:
            payload = await subscription_event_execute(operation, context, event)
            return json.dumps(payload, separators=(",", ":"))

        return make

    async def _event_payload(self, operation, context, event, key: tuple) -> str:
        """The subscription's message for the event, as JSON text: made once in this process
        for every subscriber with the same key (_payload_key), so one event to N subscribers is
        one execution, not N."""
        make = self._payload_maker(operation, context, event)
        if not isinstance(event, Event):
            return await make()  # a Dropped marker: this subscriber's own
        return await once_per_event(("payload", event.id, *key), make)

    async def _error(self, op_id: str, errors: list[dict]) -> None:
        # The legacy protocol's error carries one error object.
        await self._send({"id": op_id, "type": "error", "payload": errors[0] if self.legacy else errors})

    async def _complete(self, op_id: str) -> None:
        await self._send({"id": op_id, "type": "complete"})

    async def _operation(self, op_id: str, query: str, variables, name) -> None:
        try:
            # Prepared before the rate limit takes its requests: one per mutation it holds.
            try:
                operation = operation_prepare(query, variables, name)
            except OperationRefused as refused:
                operation, refusal = None, refused
            limited = await run_sync(self._rate_limit, operation)
            if limited is not None:
                return await self._error(op_id, limited)
            if operation is None:
                return await self._error(op_id, refusal.errors)
            context = GraphQLContext(principal=self.principal, events_listen=self._listen)
            if not operation.is_subscription:
                answer = await operation_execute(operation, context)
                await self._next(op_id, answer)
                await self._refusal_count(answer)
                return await self._complete(op_id)
            stream = await operation_subscribe(operation, context)
            if not hasattr(stream, "__aiter__"):
                answer = result_formatted(stream)
                await self._error(op_id, answer["errors"])
                return await self._refusal_count(answer)
            prefix, key = self._next_prefix(op_id), self._payload_key(operation)
            if isinstance(stream, EventStream):
                stream.on_offer = lambda event: once_per_event_start(
                    ("payload", event.id, *key), self._payload_maker(operation, context, event))
            try:
                async for event in stream:
                    await self._send_text(prefix + await self._event_payload(operation, context, event, key) + "}")
            finally:
                await stream.aclose()
            await self._complete(op_id)
        except asyncio.CancelledError:
            raise  # the client completed it, or the socket closed: nothing more to say
        except Exception:
            logger.exception("GraphQL operation %s over WebSocket failed", op_id)
            await self._error(op_id, [request_error("An unexpected error occurred; it has been logged.",
                                                    "internal_error")])

    def _rate_limit(self, operation) -> list[dict] | None:
        """The errors to answer an operation with instead of running it: the client address is
        over its limit on refused requests (as an HTTP request would be refused), or the
        tenant's rate limit refuses the operation's requests (evaapi.graphql.execution)."""
        try:
            client_refusal_check(self.client_ip)
        except RateLimited as exc:
            return [request_error(exc.message, exc.code, retry_after=exc.details["retry_after"])]
        try:
            result = operation_rate_limit(self.principal, operation)
        except RateLimiterUnavailable:
            return [request_error("Rate limiting is unavailable; try again shortly.", "service_unavailable")]
        except OperationRefused as too_many:
            return too_many.errors
        if result is not None and not result.allowed:
            return [request_error("Rate limit exceeded; try again later.", "rate_limited",
                                  retry_after=result.retry_after)]
        return None

    async def _refusal_count(self, answer: dict) -> None:
        """An answer holding a `forbidden` error counts once against the client address's limit
        on refused requests, as over HTTP; past it, the address's next operations are refused."""
        if answer_forbidden(answer):
            await run_sync(client_refusal_count, self.client_ip)

    # --- events ----------------------------------------------------------------------------
    async def _listen(self, *, groups: list[str], types=None) -> EventStream:
        """A stream of the events of these groups, listening to each before this returns, so an
        event published after it is not missed."""
        stream = EventStream(groups=groups, types=types, capacity=settings.GRAPHQL_WS_QUEUE_SIZE,
                             on_close=self._unlisten)
        self.streams.add(stream)
        try:
            for group in groups:
                await process_groups().listen(group, stream)
        except BaseException:
            await stream.aclose()  # no half-listening stream left behind (Redis failed, or a cancel)
            raise
        return stream

    async def _unlisten(self, stream: EventStream) -> None:
        self.streams.discard(stream)
        for group in stream.groups:
            await process_groups().unlisten(group, stream)

    # --- timers ----------------------------------------------------------------------------
    async def _init_deadline(self) -> None:
        await asyncio.sleep(settings.GRAPHQL_WS_INIT_TIMEOUT_SECONDS)
        if self.principal is None and not self.init_received:
            await self._close(4408, "Connection initialisation timeout.")

    async def _keep_alive(self) -> None:
        """graphql-transport-ws: a ping every interval, closing after two unanswered; legacy: `ka`."""
        interval = settings.GRAPHQL_WS_PING_INTERVAL_SECONDS
        while not self.closing:
            await asyncio.sleep(interval)
            if self.legacy:
                await self._send({"type": "ka"})
            else:
                if self.pong_due >= 2:
                    return await self._close(1011, "No pong to two pings.")
                self.pong_due += 1
                await self._send({"type": "ping"})

    async def _credentials_watch(self) -> None:
        """Ends the socket when its credentials stop holding: a token at its expiry, a revoked
        key or a suspended tenant within GRAPHQL_WS_AUTH_RECHECK_SECONDS."""
        expires_at = _expires_at(self.credentials)
        while not self.closing:
            wait = settings.GRAPHQL_WS_AUTH_RECHECK_SECONDS
            if expires_at is not None:
                wait = min(wait, max(0.0, expires_at - time.time()))
            await asyncio.sleep(wait)
            if expires_at is not None and time.time() >= expires_at:
                return await self._close(4403, "Forbidden: the token expired.")
            try:
                await run_sync(principal_for, credentials=self.credentials)
            except ServiceError as exc:
                return await self._close(4403, f"Forbidden: {exc.message}"[:120])
            except Exception:
                logger.warning("re-checking a socket's credentials failed; will try again", exc_info=True)

    async def disconnect(self, code):
        if self.protocol is None:
            return  # refused at the handshake: nothing was started
        self.closing = True
        tasks = [*self.operations.values(), *self.background]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stream in list(self.streams):  # those whose operation ended before it could close them
            await stream.aclose()
        if self.counted:
            connection_untrack(socket=self.socket_id)
            with contextlib.suppress(Exception):
                await run_sync(connection_release, tenant_id=self.principal.tenant.id, socket=self.socket_id)
        logger.info("socket closed", extra={
            "protocol": self.protocol, "tenant_id": self.principal.tenant.id if self.principal else None,
            "close_code": code, "duration_ms": round((time.monotonic() - self.opened) * 1000, 2),
            "operations": self.operations_run, "store_calls": self.store_calls.calls,
            "store_calls_by": dict(Counter(self.store_calls.log)),
        })
