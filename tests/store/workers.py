"""Code a spawned process runs against the store (importable without Django)."""

from evaapi.store.errors import PreconditionFailed
from evaapi.store.registry import ContainerSpec


def increment_with_etag_retry(backend: str, location: str, spec: ContainerSpec, item_id: str, times: int,
                              barrier, results) -> None:
    """Increments `times` times, retrying on a stale etag; puts its retry count on `results`.
    Both processes read before either writes the first time (the barrier), so they collide."""
    from tests.store.conftest import store_build

    container = store_build(backend, location).container(spec)
    retries = 0
    for attempt in range(times):
        while True:
            item = container.read(item_id, partition_key="t1")
            if attempt == 0 and retries == 0:
                barrier.wait(timeout=30)
            item["n"] += 1
            try:
                container.replace(item, etag=item["_etag"])
                break
            except PreconditionFailed:
                retries += 1
    results.put(retries)
