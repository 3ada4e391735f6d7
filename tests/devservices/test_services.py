"""Real round trips to each local service the harness started, and the harness's own cleanup."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import django_rq
import pytest
import redis
from azure.storage.blob import BlobServiceClient
from django.conf import settings
from rq.job import JobStatus

from evaapi.devservices.processes import pid_alive, port_open
from evaapi.devservices.services import azurite_process, cosmos_process, redis_process
from evaapi.store import ContainerSpec, NotFound
from evaapi.store.cosmos import CosmosStore
from tests.devservices.jobs import multiply

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_redis_set_get():
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = f"test:{uuid.uuid4()}"
    client.set(key, "value", ex=60)
    assert client.get(key) == b"value"


def test_rq_job_is_run_by_a_real_worker():
    queue = django_rq.get_queue("default")
    job = queue.enqueue(multiply, 6, 7)
    subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", "default"],
        cwd=PROJECT_DIR,
        env=os.environ,
        check=True,
        timeout=60,
        capture_output=True,
    )
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 42


def test_cosmos_create_read_and_404():
    # Through the store: the only code that talks to Cosmos (a 404 arriving as a 500 would
    # surface as StoreUnavailable, not NotFound).
    cosmos = CosmosStore(
        endpoint=os.environ["COSMOS_ENDPOINT"], key=os.environ["COSMOS_KEY"], database=f"harness-{uuid.uuid4().hex[:8]}"
    )
    spec = ContainerSpec(name="items", partition_key="/tenant")
    cosmos.init([spec])
    container = cosmos.container(spec)
    container.create({"id": "a", "tenant": "t1", "n": 1})
    assert container.read("a", partition_key="t1")["n"] == 1
    with pytest.raises(NotFound):
        container.read("missing", partition_key="t1")
    with pytest.raises(NotFound):
        container.read("a", partition_key="t2")


def test_azurite_upload_download():
    service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    container = service.create_container(f"harness-{uuid.uuid4().hex[:8]}")
    payload = os.urandom(64 * 1024)
    container.upload_blob("file.bin", payload)
    assert container.download_blob("file.bin").readall() == payload
    container.delete_container()


def test_stopped_services_leave_no_process(tmp_path):
    services = [
        redis_process(log_path=tmp_path / "redis.log"),
        cosmos_process(log_path=tmp_path / "cosmos.log"),
        azurite_process(log_path=tmp_path / "azurite.log"),
    ]
    for service in services:
        service.start()
    try:
        for service in services:
            service.wait_until_listening()
            assert pid_alive(service.pid)
    finally:
        for service in services:
            service.stop()
    for service in services:
        assert not pid_alive(service.pid), f"{service.name} (pid {service.pid}) survived stop()"
        assert not port_open(service.port), f"{service.name} still listens on {service.port}"
