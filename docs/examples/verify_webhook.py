"""A minimal receiver of EVA webhooks that verifies every request. Python 3.9+, standard library only.

    WEBHOOK_SECRET=whsec_... PORT=8080 python3 verify_webhook.py

PORT=0 picks a free port; the first line printed says which.
"""

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["WEBHOOK_SECRET"]  # the endpoint's secret, "whsec_..."
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
TOLERANCE_SECONDS = 5 * 60
seen_ids = set()  # in production: a table with a unique key, kept for a week or more


class InvalidSignature(Exception):
    pass


def verify(headers, body: bytes) -> None:
    """Raises InvalidSignature unless `body` (the raw bytes received) is signed by KEY."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise InvalidSignature("missing webhook headers")
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp missing, too old or too new")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    # Several space-separated signatures while a secret is being rotated: any one may match.
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures.split()):
        raise InvalidSignature("no matching signature")


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))  # the raw bytes, not re-serialised JSON
        try:
            verify(self.headers, body)
        except InvalidSignature as refused:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(str(refused).encode())
            return
        msg_id = self.headers["webhook-id"]
        if msg_id not in seen_ids:  # the same delivery can arrive twice: act on it once
            seen_ids.add(msg_id)
            event = json.loads(body)
            print(f"received {event['type']} ({msg_id})", flush=True)  # better: queue it, answer at once
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))),
                                 WebhookHandler)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    server.serve_forever()
