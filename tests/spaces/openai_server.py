"""A real local stand-in for Azure OpenAI's chat-completions endpoint, scripted per test.

`POST /openai/deployments/{deployment}/chat/completions?api-version=...` with an `api-key`
header; it answers with the replies a test scripts (the last one repeats) and records every
request it received, with its arrival time.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "test-azure-openai-key"
DEPLOYMENT = "gpt-answers"
API_VERSION = "2024-10-21"
MODEL = "gpt-4o-2024-08-06"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a completion whose message says `content`, or an error `status`."""

    content: str | None = "An answer."
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    finish_reason: str = "stop"
    error_code: str = "error"


@dataclass(frozen=True)
class Received:
    path: str
    query: dict
    headers: dict
    body: dict
    at: float  # time.monotonic() on arrival


def rate_limited(retry_after: str = "1") -> Reply:
    return Reply(status=429, headers={"Retry-After": retry_after}, error_code="429")


def completion(reply: Reply, request: dict) -> dict:
    """The shape Azure OpenAI returns (trimmed of its content-filter annotations)."""
    content = reply.content or ""
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
    completion_tokens = len(content.split())
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "system_fingerprint": "fp_local",
        "choices": [
            {
                "index": 0,
                "finish_reason": reply.finish_reason,
                "logprobs": None,
                "message": {"role": "assistant", "content": reply.content, "refusal": None},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class OpenAIServer:
    def __init__(self):
        self._lock = threading.Lock()
        self._script: list[Reply] = [Reply()]
        self.received: list[Received] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def script(self, *replies: Reply) -> None:
        """The replies to the next requests, in order; the last one answers every request after."""
        with self._lock:
            self._script = list(replies)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def start(self) -> "OpenAIServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes the replies still waiting out their delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Azure serves it

            def do_POST(self):
                url = urlsplit(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.received.append(
                        Received(url.path, parse_qs(url.query), dict(self.headers.items()), body, time.monotonic())
                    )
                if url.path != f"/openai/deployments/{DEPLOYMENT}/chat/completions":
                    self._error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
                elif parse_qs(url.query).get("api-version") != [API_VERSION]:
                    self._error(404, "404", "Resource not found")
                elif self.headers.get("api-key") != API_KEY:
                    self._error(401, "401", "Access denied due to invalid subscription key.")
                else:
                    reply = server._next_reply()
                    if reply.delay and server._stopping.wait(reply.delay):
                        return
                    if reply.status == 200:
                        self._send(200, completion(reply, body))
                    else:
                        self._error(reply.status, reply.error_code, f"Scripted {reply.status}.", reply.headers)

            def _error(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
                self._send(status, {"error": {"code": code, "message": message}}, headers)

            def _send(self, status: int, document: dict, headers: dict | None = None) -> None:
                payload = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("x-request-id", uuid.uuid4().hex)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test); nothing to answer

            def log_message(self, format, *args):
                pass  # keep pytest output clean

        return Handler
