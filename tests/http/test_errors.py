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
