import logging

import pytest

pytestmark = pytest.mark.urls("tests.http.urls")


def assert_error_shape(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_incoming_request_id_is_honoured(client):
    response = client.get("/health", headers={"X-Request-ID": "client-id-1234"})
    assert response["X-Request-ID"] == "client-id-1234"


@pytest.mark.parametrize("bad", ["short", "x" * 200, "has space in it", "semi;colon;value"])
def test_malformed_request_id_is_replaced(client, bad):
    response = client.get("/health", headers={"X-Request-ID": bad})
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


def test_404_has_the_error_shape(client):
    assert_error_shape(client.get("/no/such/path"), 404, "not_found")


def test_405_has_the_error_shape_and_allow(client):
    body = assert_error_shape(client.get("/post-only"), 405, "method_not_allowed")
    assert body["error"]["details"] == {"allowed_methods": ["POST"]}


def test_drf_405_has_the_error_shape(client):
    assert_error_shape(client.get("/echo"), 405, "method_not_allowed")


def test_validation_error_names_the_field(client):
    body = assert_error_shape(client.post("/echo", {"name": "x" * 11}, content_type="application/json"), 400,
                              "validation_error")
    assert "name" in body["error"]["details"]


def test_malformed_json_is_400(client):
    assert_error_shape(client.post("/echo", "{not json", content_type="application/json"), 400, "parse_error")


def test_unsupported_media_type_is_415(client):
    assert_error_shape(client.post("/echo", "name=x", content_type="text/plain"), 415, "unsupported_media_type")


def test_unhandled_exception_is_a_logged_500(client, caplog):
    with caplog.at_level(logging.ERROR):
        body = assert_error_shape(client.get("/boom"), 500, "internal_error")
    assert "kaboom" not in str(body)
    logged = [r for r in caplog.records if r.exc_info and "kaboom" in str(r.exc_info[1])]
    assert logged
    assert logged[0].request_id == body["request_id"]


def test_request_log_line_carries_the_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="evaapi.request"):
        response = client.get("/health")
    (record,) = [r for r in caplog.records if r.name == "evaapi.request"]
    assert record.request_id == response["X-Request-ID"]
    assert (record.method, record.path, record.status) == ("GET", "/health", 200)


def test_json_formatter_writes_one_object_with_the_request_id():
    import json

    from evaapi.http.context import reset_request_id, set_request_id
    from evaapi.http.logging import JsonFormatter, RequestIdFilter

    token = set_request_id("req-12345678")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
        RequestIdFilter().filter(record)
    finally:
        reset_request_id(token)
    line = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s").format(record)
    assert json.loads(line) | {"time": None} == {
        "time": None, "level": "INFO", "logger": "x", "message": "hello", "request_id": "req-12345678"
    }


def test_an_oversized_body_is_413(client):
    body = '{"name": "' + "x" * 3_000_000 + '"}'
    assert_error_shape(client.post("/echo", body, content_type="application/json"), 413, "payload_too_large")


def test_a_json_array_where_an_object_belongs_is_400(client):
    assert_error_shape(client.post("/echo", "[1, 2]", content_type="application/json"), 400, "validation_error")


# --- hostile input (issue 7, items 1, 2, 3, 19, 20) ------------------------------------------
MANY_PARAMETERS = "&".join(f"p{i}=1" for i in range(1500))


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/api-keys", "/openapi.json", "/docs", "/api/v1/auth/login", "/admin/login/", "/health"]
)
@pytest.mark.django_db
def test_too_many_query_parameters_is_400_not_500(client, path, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get(f"{path}?{MANY_PARAMETERS}")
    if path == "/health":
        assert response.status_code == 200  # reads no parameters
        return
    body = assert_error_shape(response, 400, "too_many_parameters")
    assert "1000" in body["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged for bad input"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [33, 990, 5000])
@pytest.mark.django_db
def test_a_deeply_nested_body_is_400_without_a_traceback(client, depth, caplog, tenant):
    from tests.factories import api_key_make

    key = api_key_make(tenant)
    body = '{"name": "k", "scopes": ' + _nested(depth) + "}"
    with caplog.at_level(logging.WARNING):
        targets = (("/api/v1/auth/login", {}), ("/api/v1/auth/api-keys", {"Authorization": f"Bearer {key}"}))
        for path, headers in targets:
            response = client.post(path, body, content_type="application/json", headers=headers)
            error = assert_error_shape(response, 400, "parse_error")["error"]
            assert "nests deeper than 32 levels" in error["message"]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('{"name": ' + "9" * 5000 + "}", "integer beyond"),
        # Cosmos DB keeps numbers as doubles, JavaScript reads them so: 10**30 + 7 came back 1e+30.
        ('{"name": {"k": 9007199254740992}}', "integer beyond \u00b19,007,199,254,740,991"),
        ('{"name": [-1000000000000000000000000000007]}', "integer beyond"),
        ('{"name": NaN}', "number that is not a valid JSON value"),
        ('{"name": -Infinity}', "number that is not a valid JSON value"),
        ('{"name": [1e999]}', "number that is not a valid JSON value"),  # json reads it as infinity
        ('{"name": {"k": "\\ud800"}}', "string that is not valid Unicode"),  # a lone surrogate: no UTF-8
        ('{"\\udfff": 1}', "string that is not valid Unicode"),
        ('{"name": "x",}', "not valid JSON"),
        ("\xff\xfe", "not valid utf-8"),
    ],
)
def test_parse_errors_say_what_is_wrong_without_python_internals(client, body, words):
    response = client.post("/echo", body.encode("latin-1"), content_type="application/json")
    message = assert_error_shape(response, 400, "parse_error")["error"]["message"]
    assert words in message
    for internal in ("sys.", "Python", "JSON parse error"):
        assert internal not in message


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib"])
def test_a_charset_that_is_not_a_text_encoding_is_400(client, charset):
    # Python codecs that are not text encodings (Django itself ignores a charset with no codec).
    response = client.generic("POST", "/echo", b'{"name": "x"}', content_type=f"application/json; charset={charset}")
    assert "not a text encoding" in assert_error_shape(response, 400, "parse_error")["error"]["message"]


def test_a_lone_surrogate_a_charset_decodes_is_400(client):
    # UTF-7 spells U+D800 "+2AA-": no JSON escape in the body, a lone surrogate in its text.
    response = client.generic("POST", "/echo", b'{"name": {"k": "+2AA-"}}',
                              content_type="application/json; charset=utf-7")
    assert "string that is not valid Unicode" in assert_error_shape(response, 400, "parse_error")["error"]["message"]


@pytest.mark.django_db
def test_a_continuation_token_with_values_of_the_wrong_types_is_400(admin_client):
    import base64
    import json

    first = admin_client.get("/api/v1/auth/api-keys", {"limit": 1}).json()
    admin_client.post("/api/v1/auth/api-keys", {"name": "second", "scopes": ["spaces:read"]}, format="json")
    real = admin_client.get("/api/v1/auth/api-keys", {"limit": 1}).json()["continuation"]
    assert first is not None
    assert real
    fingerprint = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))["f"]
    for values in (["x", [1]], [{"a": 1}, "id"], [None, "id"], ["x"], [1, 2, 3]):
        forged = base64.urlsafe_b64encode(json.dumps({"f": fingerprint, "v": values}).encode()).decode()
        response = admin_client.get("/api/v1/auth/api-keys", {"continuation": forged})
        assert_error_shape(response, 400, "invalid_query")


def test_drf_405_names_the_allowed_methods(client):
    body = assert_error_shape(client.get("/echo"), 405, "method_not_allowed")
    assert body["error"]["details"] == {"allowed_methods": ["POST"]}


def test_post_to_health_is_405_not_a_csrf_403(client):
    body = assert_error_shape(client.post("/health"), 405, "method_not_allowed")
    assert body["error"]["details"] == {"allowed_methods": ["GET"]}


def test_a_host_not_allowed_is_400(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/api/v1/auth/api-keys", HTTP_HOST="evil.example.com")
    assert_error_shape(response, 400, "bad_host")


def test_responses_carry_their_length(client):
    response = client.get("/health")
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.parametrize("path", ["/docs", "/admin/login/"])
@pytest.mark.django_db
def test_html_pages_carry_a_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert b"<script>" not in response.content  # no inline script the policy would block
