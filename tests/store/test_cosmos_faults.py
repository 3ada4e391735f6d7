"""Transient Cosmos errors, injected by the local emulator's test-only `/_faults` control.

Design: transient errors (429, 503) are retried with the SDK's backoff, then the store raises
StoreUnavailable, never a raw SDK exception. What the SDK (azure-cosmos 4.x) actually does:
- 429: retried after `x-ms-retry-after-ms`, up to RetryOptions.MaxRetryAttemptCount (9) times
  per request. Queries nest two retry loops, so a throttled query page is tried up to 10 x 10.
- 503: retried once per region after 500 ms (this needs endpoint discovery, which CosmosStore
  leaves on, against the emulator too, so tests see what production does).
"""

import json
import os
import time
import urllib.request
import uuid

import pytest

from evaapi.store import query as q
from evaapi.store.cosmos import CosmosStore
from evaapi.store.errors import StoreUnavailable
from evaapi.store.metrics import count_store_calls
from evaapi.store.registry import ContainerSpec
from tests.store.conftest import store_build


class Faults:
    """Client of the emulator's `/_faults` control, scoped to one container."""

    def __init__(self, endpoint: str):
        self.url = endpoint.rstrip("/") + "/_faults"
        self.collection: str | None = None

    def _send(self, method: str, rule: dict | None = None) -> dict | None:
        data = json.dumps(rule).encode() if rule is not None else None
        request = urllib.request.Request(self.url, data=data, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["fault"]

    def inject(self, status: int, *, count: int, match: str, retry_after_ms: int = 1) -> None:
        rule = {"status": status, "count": count, "match": match, "retry_after_ms": retry_after_ms}
        self._send("POST", {**rule, "collection": self.collection})

    def injected(self) -> int:
        """How many requests the current rule has answered with its fault."""
        return self._send("GET")["injected"]

    def clear(self) -> None:
        self._send("DELETE")


@pytest.fixture(scope="module")
def cosmos_store() -> CosmosStore:
    return store_build("cosmos", f"faults-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def faults():
    control = Faults(os.environ["COSMOS_ENDPOINT"])
    control.clear()
    yield control
    control.clear()


@pytest.fixture
def container(cosmos_store, faults):
    """A fresh container with one item, created through `init`; faults are scoped to it."""
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:12]}", partition_key="/tenant", filter_fields=("n",))
    cosmos_store.init([spec])
    created = cosmos_store.container(spec)
    created.create({"id": "a", "tenant": "t", "n": 1})
    faults.collection = spec.name
    return created


def retry_budget(store: CosmosStore) -> int:
    return store.client.client_connection.connection_policy.RetryOptions.MaxRetryAttemptCount


def test_429_on_point_read_is_retried_by_the_sdk(container, faults):
    faults.inject(429, count=2, match="read", retry_after_ms=5)

    with count_store_calls() as calls:
        item = container.read("a", partition_key="t")

    assert item["id"] == "a"
    assert faults.injected() == 2  # both 429s were answered; the third attempt succeeded
    assert calls.calls == 1
    assert calls.by_operation == {"read": 1}


def test_persistent_429_on_point_read_raises_store_unavailable(cosmos_store, container, faults):
    faults.inject(429, count=1000, match="read", retry_after_ms=1)

    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="429") as raised:
        container.read("a", partition_key="t")

    assert time.monotonic() - start < 5
    assert raised.value.status == 503
    assert faults.injected() == 1 + retry_budget(cosmos_store)  # first try + the SDK's retries


def test_persistent_429_on_query_raises_store_unavailable(cosmos_store, container, faults):
    faults.inject(429, count=1000, match="query", retry_after_ms=1)

    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="429"):
        container.query(q.Query(filters=(q.eq("n", 1),)), partition_key="t")

    assert time.monotonic() - start < 10
    # The SDK retries a query page in two nested loops: (1 + budget) squared attempts.
    assert faults.injected() == (1 + retry_budget(cosmos_store)) ** 2


@pytest.mark.parametrize("partition_key", ["t", None], ids=["partition", "cross-partition"])
def test_503_on_query_is_retried_then_store_unavailable(container, faults, partition_key):
    faults.inject(503, count=1, match="query")
    assert [i["id"] for i in container.query(q.Query(), partition_key=partition_key).items] == ["a"]
    assert faults.injected() == 1

    faults.inject(503, count=1000, match="query")
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="503") as raised:
        container.query(q.Query(), partition_key=partition_key)
    assert time.monotonic() - start < 10
    assert raised.value.status == 503
    assert faults.injected() > 1


def build_and_use(endpoint: str) -> None:
    store = CosmosStore(endpoint=endpoint, key=os.environ["COSMOS_KEY"], database="unreachable")
    store.init([ContainerSpec(name="never", partition_key="/tenant")])


def test_connection_refused_raises_store_unavailable():
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unreachable"):
        build_and_use("http://127.0.0.1:1/")
    assert time.monotonic() - start < 10
