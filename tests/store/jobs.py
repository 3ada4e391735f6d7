"""A job the integration tests enqueue: three store calls through the configured store."""

import uuid

from evaapi.store import store
from evaapi.store.registry import ContainerSpec


def three_store_calls():
    spec = ContainerSpec(name="jobcheck", partition_key="/tenant")
    store().init([spec])  # setup, not counted: init is not a container call
    container = store().container(spec)
    item_id = uuid.uuid4().hex
    container.create({"id": item_id, "tenant": "t"})
    container.read(item_id, partition_key="t")
    container.delete(item_id, partition_key="t")
