"""Code a spawned process runs against the store (importable without Django)."""

from evaapi.store.errors import PreconditionFailed
from evaapi.store.registry import ContainerSpec


def increment_with_etag_retry(backend: str, location: str, spec: ContainerSpec, item_id: str, times: int) -> int:
    from tests.store.conftest import store_build

    container = store_build(backend, location).container(spec)
    retries = 0
    for _ in range(times):
        while True:
            item = container.read(item_id, partition_key="t1")
            item["n"] += 1
            try:
                container.replace(item, etag=item["_etag"])
                break
            except PreconditionFailed:
                retries += 1
    return retries
