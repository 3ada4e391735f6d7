"""Every contract test runs once per backend: `[sqlite]` and `[cosmos]` in its test id."""

import os
import uuid

import pytest

from evaapi.store.registry import ContainerSpec


def store_build(backend: str, location: str):
    """Builds a store from plain values, so a spawned process can build its own."""
    if backend == "sqlite":
        from evaapi.store.sqlite import SqliteStore

        return SqliteStore(location)
    from evaapi.store.cosmos import CosmosStore

    return CosmosStore(endpoint=os.environ["COSMOS_ENDPOINT"], key=os.environ["COSMOS_KEY"], database=location)


@pytest.fixture(scope="session", params=["sqlite", "cosmos"])
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        location = str(tmp_path_factory.mktemp("store") / "store.sqlite3")
    else:
        location = f"contract-{uuid.uuid4().hex[:8]}"
    return request.param, location


@pytest.fixture(scope="session")
def store_under_test(backend):
    return store_build(*backend)


@pytest.fixture
def make_container(store_under_test):
    """A fresh container per call, created through `init` like init_store does."""

    def make(**declaration):
        declaration.setdefault("partition_key", "/tenant")
        spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:12]}", **declaration)
        store_under_test.init([spec])
        return store_under_test.container(spec)

    return make
