"""How the HTTP layer answers the store's errors (`service_error_response`)."""

import json
import logging

import pytest

from evaapi.http.errors import service_error_response
from evaapi.store import Conflict, NotFound, PreconditionFailed, StoreError, StoreUnavailable, TooLarge


def error_of(response) -> dict:
    return json.loads(response.content)["error"]


def test_store_unavailable_is_a_503():
    response = service_error_response(StoreUnavailable("cosmos: 429 throttled"))
    assert response.status_code == 503
    assert error_of(response)["code"] == "service_unavailable"


def test_any_other_server_side_store_error_is_a_logged_500(caplog):
    with caplog.at_level(logging.ERROR, logger="evaapi.http.errors"):
        response = service_error_response(StoreError("cosmos: 400 Message: syntax error near 'SELEC'"))
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert "SELEC" not in response.content.decode()  # the detail goes to the log, not to the client
    (record,) = [r for r in caplog.records if r.name == "evaapi.http.errors" and r.levelno >= logging.ERROR]
    assert "syntax error near 'SELEC'" in record.getMessage()


@pytest.mark.parametrize(
    ("error", "status"), [(NotFound(), 404), (Conflict(), 409), (PreconditionFailed(), 412), (TooLarge(), 413)]
)
def test_client_side_store_errors_keep_their_status(error, status):
    assert service_error_response(error).status_code == status
