"""A customer's receiver on 127.0.0.1, in a thread: it verifies every request's signature from
the raw body and headers (with the secrets it is given), records what came, and answers as the
test scripts it (status, headers, a delay)."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from webhooks.signing import SignatureInvalid, signature_verify


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict = field(default_factory=dict)  # str values go out as Latin-1 bytes
    delay: float = 0.0
    body: bytes = b"ok"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict
    body: bytes
    verified_with: tuple[str, ...]  # the secrets whose signature it carried
    at: float


class SignedReceiver:
    def __init__(self, secrets: list[str] | None = None):
        self.secrets = list(secrets or [])
        # Off for tests that move the sender's clock on: the signature is checked, not its age.
        self.check_timestamp = True
        self.requests: list[Request] = []
        self._answers: list[Answer] = [Answer()]
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"

    def start(self) -> "SignedReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, *answers: Answer) -> None:
        """The answers to the next requests, in order; the last answers every request after."""
        with self._lock:
            self._answers = list(answers)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Request]:
        """Blocks until `count` requests came (an event, not a sleep), then returns them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests came")
            return list(self.requests)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified = []
                for secret in receiver.secrets:
                    try:
                        now = None if receiver.check_timestamp else int(headers.get("webhook-timestamp", 0))
                        signature_verify(secret=secret, headers=headers, body=body, now=now)
                        verified.append(secret)
                    except SignatureInvalid:
                        pass
                with receiver._lock:
                    answer = receiver._answers.pop(0) if len(receiver._answers) > 1 else receiver._answers[0]
                with receiver._arrived:  # recorded on arrival, before any delay
                    receiver.requests.append(Request(self.path, headers, body, tuple(verified), time.monotonic()))
                    receiver._arrived.notify_all()
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format, *args):
                pass

        return Handler
