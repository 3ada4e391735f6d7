"""A real local OpenID provider stand-in: discovery document and JWKS over HTTP, plus token minting."""

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TENANT_ID = "7f0c7d52-3b1e-4c55-9a57-1d2e3f4a5b6c"
OTHER_TENANT_ID = "0d9e8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
AUDIENCE = "api://eva"
ISSUER = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
DISCOVERY_PATH = "/.well-known/openid-configuration"
KEYS_PATH = "/keys"


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA 2048 key per name for the whole session: generating them is slow."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_default() -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "tid": TENANT_ID,
        "oid": "0b1c2d3e-user-object-id",
        "sub": "pairwise-subject",
        "azp": "client-app-id",
        "scp": "spaces.read documents:write",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }


def mint(
    overrides: dict | None = None,
    *,
    key: rsa.RSAPrivateKey,
    kid: str | None,
    alg: str = "RS256",
    headers: dict | None = None,
    omit: tuple[str, ...] = (),
) -> str:
    """A token signed by PyJWT: default claims updated with `overrides`, without the claims in `omit`."""
    claims = {**claims_default(), **(overrides or {})}
    for name in omit:
        claims.pop(name, None)
    header = {**({"kid": kid} if kid is not None else {}), **(headers or {})}
    return jwt.encode(claims, key, algorithm=alg, headers=header)


def token_by_hand(header: dict, claims: dict, *, hmac_secret: bytes | None = None) -> str:
    """A token PyJWT refuses to produce (`alg: none`, HS256 keyed with a public key); unsigned without a secret."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = b""
    if hmac_secret is not None:
        signature = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


class JwksServer:
    """Serves the discovery document and a JWKS on 127.0.0.1, counting the requests per path."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self.hits: Counter[str] = Counter()
        self.failing = False  # answer 500 to everything
        self.stalled = False  # hold every request until stopped
        self.delay = 0.0  # seconds to wait before each answer
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "JwksServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval makes `stop()` quick; every test starts and stops a server.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Idempotent, so a test may stop the server and the fixture still tears it down."""
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def key_add(self, kid: str, key: rsa.RSAPrivateKey) -> None:
        with self._lock:
            self._keys[kid] = key

    def keys_rotate(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        """Publish exactly `keys`; the previous ones disappear from the JWKS."""
        with self._lock:
            self._keys = dict(keys)

    def jwks(self) -> dict:
        with self._lock:
            keys = list(self._keys.items())
        entries = []
        for kid, key in keys:
            entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            entries.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": entries}

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.hits[path] += 1
                if server.stalled:
                    server._release.wait(timeout=10)
                    return  # the client has given up by now; close without an answer
                if server.delay:
                    time.sleep(server.delay)
                if server.failing:
                    self._send(500, {"error": "unavailable"})
                elif path == DISCOVERY_PATH:
                    self._send(200, {"issuer": ISSUER, "jwks_uri": server.url + KEYS_PATH})
                elif path == KEYS_PATH:
                    self._send(200, server.jwks())
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass  # keep pytest output clean

        return Handler
