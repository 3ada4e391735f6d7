"""Through the real server and the ASGI stack, as production runs: request ids, CORS, the error
shape, chunked bodies, bodies refused unread with bounded memory, and status reason phrases."""

import http.client
import json
import socket
import threading
import uuid
from urllib.parse import urlparse

import psutil
import pytest

from tests.http.conftest import SERVER_ENV

LIMIT = int(SERVER_ENV["MAX_REQUEST_BODY_BYTES"])


def _connection(url: str) -> http.client.HTTPConnection:
    parsed = urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)


def _request(url, method, path, body=None, headers=None, **kwargs):
    conn = _connection(url)
    try:
        conn.request(method, path, body=body, headers=headers or {}, **kwargs)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def _assert_error_shape(response, raw: bytes, status: int, code: str) -> dict:
    assert response.status == status, raw
    assert response.getheader("Content-Type") == "application/json"
    body = json.loads(raw)
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response.getheader("X-Request-ID")
    return body


def test_request_ids_cors_and_the_error_shape_hold_under_the_server(live_server_url):
    response, raw = _request(live_server_url, "GET", "/api/v1/auth/api-keys",
                             headers={"Origin": "https://app.example.com", "X-Request-ID": "asgi-test-12345",
                                      "X-Forwarded-For": _client_address()})
    body = _assert_error_shape(response, raw, 401, "unauthenticated")
    assert body["request_id"] == "asgi-test-12345"
    assert response.getheader("Access-Control-Allow-Origin") == "https://app.example.com"
    assert "ETag" in response.getheader("Access-Control-Expose-Headers")
    assert response.getheader("WWW-Authenticate") == 'Bearer realm="evaapi"'
    assert response.getheader("Content-Length") == str(len(raw))


def test_a_chunked_json_body_is_read(live_server_url):
    body = json.dumps({"username": f"nobody-{uuid.uuid4().hex[:6]}", "password": "x"}).encode()
    response, raw = _request(live_server_url, "POST", "/api/v1/auth/login", body=iter([body[:10], body[10:]]),
                             headers={"Content-Type": "application/json", "X-Forwarded-For": _client_address()},
                             encode_chunked=True)
    # Not "username: This field is required": the body arrived and was checked.
    _assert_error_shape(response, raw, 401, "unauthenticated")


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(live_server_url):
    parsed = urlparse(live_server_url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000000\r\n\r\n")
        head, body = _read_response(sock)
    assert head.split("\r\n")[0] in ("HTTP/1.1 413 Request Entity Too Large", "HTTP/1.1 413 Content Too Large")
    assert "connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def _read_response(sock) -> tuple[str, bytes]:
    """The status line and headers, and the body (by its Content-Length), from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    head = head.decode("latin-1")
    lines = head.split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def _client_address() -> str:
    """A client address of the test's own (the server trusts 127.0.0.1 as a proxy), so limits
    on refused requests counted by one test never meet another."""
    return f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _server_rss(url: str) -> int:
    port = urlparse(url).port
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            process = psutil.Process(connection.pid)
            return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    raise AssertionError("server process not found")


def test_an_endless_chunked_body_is_refused_at_the_limit_with_memory_bounded(live_server_url):
    parsed = urlparse(live_server_url)
    before = _server_rss(live_server_url)
    sent = 0
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    stop = threading.Event()

    def send_forever(sock):
        nonlocal sent
        try:
            while not stop.is_set() and sent < 200 * 1024 * 1024:
                sock.sendall(frame)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: what a refused body ends with

    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sender = threading.Thread(target=send_forever, args=(sock,), daemon=True)
        sender.start()
        head, body = _read_response(sock)
        stop.set()
        during = _server_rss(live_server_url)
        sender.join(timeout=30)
    assert head.split("\r\n")[0] in ("HTTP/1.1 413 Request Entity Too Large", "HTTP/1.1 413 Content Too Large")
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    # Refused once past the limit: the client got far less than its 200 MB in, and the server
    # holds about the limit, not the body.
    assert sent < 50 * 1024 * 1024
    assert during - before < 40 * 1024 * 1024


def test_429_has_its_reason_phrase(live_server_url):
    address_headers = {"Authorization": "Bearer eva_" + "A" * 43, "X-Forwarded-For": _client_address()}
    statuses = []
    for _ in range(5):
        conn = _connection(live_server_url)
        conn.request("GET", "/api/v1/audit-logs", headers=address_headers)
        response = conn.getresponse()
        statuses.append((response.status, response.reason))
        response.read()
        conn.close()
        if response.status == 429:
            break
    assert statuses[-1] == (429, "Too Many Requests"), statuses


@pytest.mark.django_db
def test_an_authenticated_read_through_the_server(live_server_url, tenant):
    from tests.factories import api_key_make

    key = api_key_make(tenant)
    response, raw = _request(live_server_url, "GET", f"/api/v1/auth/api-keys/{key[4:16]}",
                             headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": _client_address()})
    assert response.status == 200, raw
    assert json.loads(raw)["id"] == key[4:16]


@pytest.mark.django_db
def test_uploads_take_their_own_larger_limit_and_are_refused_past_it(live_server_url, tenant):
    from spaces.services import space_create
    from tests.factories import api_key_make

    key = api_key_make(tenant)
    space = space_create(tenant=tenant, actor="test", name=f"uploads {uuid.uuid4().hex[:6]}")
    boundary = "evaboundary"
    words = b"plenty of words in a text file\n"

    def form(size: int) -> bytes:
        content = words * (size // len(words))
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()

    headers = {"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}",
               "X-Forwarded-For": _client_address()}
    path = f"/api/v1/spaces/{space.id}/documents"
    # Larger than any other body may be (1 MiB on this server), within the upload limit: taken.
    response, raw = _request(live_server_url, "POST", path, body=form(3 * 1024 * 1024), headers=headers)
    assert response.status == 201, raw
    # Past the upload limit (EVA_MAX_UPLOAD_MB=4 here): refused from its declared length, before
    # the client has sent any of it.
    parsed = urlparse(live_server_url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {5 * 1024 * 1024}\r\n\r\n"
                     .encode())
        status_line, body = _read_response(sock)
    assert status_line.split("\r\n")[0].split()[1] == "413"
    limit = 4 * 1024 * 1024 + 64 * 1024
    assert json.loads(body)["error"]["message"] == f"The request body is larger than {limit} bytes."


@pytest.mark.django_db
def test_a_graphql_operation_runs_asynchronously_under_the_server(live_server_url, tenant):
    """Through uvicorn: the async view, its loaders on the sync pool, and GraphQL's own error shape."""
    from tests.factories import api_key_make
    from tests.graphql.data import space_filled

    key = api_key_make(tenant)
    space_filled(tenant, name="Served", documents=3, queries=2)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
               "X-Forwarded-For": _client_address()}
    query = ("{ spaces(first: 5) { edges { node { name documents(first: 5) { edges { node { filename space { name } "
             "} } } queryRuns(first: 2) { edges { node { result { citations { document { filename } } } } } } } } } }")
    response, raw = _request(live_server_url, "POST", "/graphql", body=json.dumps({"query": query}).encode(),
                             headers=headers)
    assert response.status == 200, raw
    (edge,) = json.loads(raw)["data"]["spaces"]["edges"]
    assert [d["node"]["filename"] for d in edge["node"]["documents"]["edges"]] == ["doc-2.txt", "doc-1.txt",
                                                                                   "doc-0.txt"]
    assert {d["node"]["space"]["name"] for d in edge["node"]["documents"]["edges"]} == {"Served"}
    cited = edge["node"]["queryRuns"]["edges"][0]["node"]["result"]["citations"]
    assert [c["document"]["filename"] for c in cited] == ["doc-0.txt", "doc-1.txt"]
    response, raw = _request(live_server_url, "POST", "/graphql", body=b'{"query": "{ nope }"}', headers=headers)
    assert response.status == 400
    assert json.loads(raw)["errors"][0]["extensions"]["code"] == "graphql_validation_failed"
