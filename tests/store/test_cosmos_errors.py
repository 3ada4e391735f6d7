"""A Cosmos answer that says the request itself is wrong (400) is a programming error: a
StoreError that is logged with Cosmos' message, never StoreUnavailable, which is kept for
throttling and outages."""

import logging
import uuid

import pytest

from evaapi.store import StoreError, StoreUnavailable, batch_patch, patch_remove
from evaapi.store.registry import ContainerSpec
from tests.store.conftest import store_build


@pytest.fixture(scope="module")
def container():
    store = store_build("cosmos", f"errors-{uuid.uuid4().hex[:8]}")
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:12]}", partition_key="/tenant")
    store.init([spec])
    created = store.container(spec)
    created.create({"id": "a", "tenant": "t"})
    return created


def cosmos_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "evaapi.store.cosmos" and r.levelno >= logging.ERROR]


# Cosmos refuses to remove a field the item does not have: 400 BadRequest.
REMOVE_ABSENT = [patch_remove("/absent")]


def test_a_cosmos_400_is_a_logged_store_error(container, caplog):
    with caplog.at_level(logging.ERROR, logger="evaapi.store.cosmos"), pytest.raises(StoreError) as raised:
        container.patch("a", partition_key="t", operations=REMOVE_ABSENT)
    assert not isinstance(raised.value, StoreUnavailable)
    assert raised.value.status == 500
    (record,) = cosmos_errors(caplog)
    assert "400" in record.getMessage()
    assert "/absent" in record.getMessage()  # Cosmos' own message, which names the path


def test_a_cosmos_400_inside_a_batch_is_a_logged_store_error(container, caplog):
    with caplog.at_level(logging.ERROR, logger="evaapi.store.cosmos"), pytest.raises(StoreError) as raised:
        container.batch([batch_patch("a", REMOVE_ABSENT)], partition_key="t")
    assert not isinstance(raised.value, StoreUnavailable)
    assert raised.value.operation_index == 0
    (record,) = cosmos_errors(caplog)
    assert "400" in record.getMessage()
