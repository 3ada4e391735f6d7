"""The store as the rest of the project sees it: settings, init_store, readiness, request and
job instrumentation."""

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from evaapi.store import registry, store
from evaapi.store.registry import ContainerSpec

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "cosmos"])
def configured_backend(request, tmp_path):
    overrides = {"EVA_STORE_BACKEND": request.param}
    if request.param == "sqlite":
        overrides["EVA_SQLITE_PATH"] = tmp_path / "store.sqlite3"
    else:
        overrides.update(
            COSMOS_ENDPOINT=os.environ["COSMOS_ENDPOINT"],
            COSMOS_KEY=os.environ["COSMOS_KEY"],
            COSMOS_DATABASE=f"it-{uuid.uuid4().hex[:8]}",
        )
    with override_settings(**overrides):
        store.cache_clear()
        yield request.param
    store.cache_clear()


@pytest.fixture
def declared_container(monkeypatch):
    spec = ContainerSpec(name=f"c{uuid.uuid4().hex[:12]}", partition_key="/tenant")
    monkeypatch.setattr(registry, "_REGISTRY", {spec.name: spec})
    return spec


def test_init_store_creates_then_finds_each_container(configured_backend, declared_container):
    out = io.StringIO()
    call_command("init_store", stdout=out)
    assert f"created  {declared_container.name}" in out.getvalue()
    assert f"store backend: {configured_backend}" in out.getvalue()
    out = io.StringIO()
    call_command("init_store", stdout=out)
    assert f"exists   {declared_container.name}" in out.getvalue()


def test_init_store_refuses_a_changed_partition_key(configured_backend, declared_container, monkeypatch):
    call_command("init_store", stdout=io.StringIO())
    changed = ContainerSpec(name=declared_container.name, partition_key="/space_id")
    monkeypatch.setattr(registry, "_REGISTRY", {changed.name: changed})
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="mismatch"):
        call_command("init_store", stdout=io.StringIO())


def test_readiness_includes_the_store(client, configured_backend):
    store().init([])
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["store"]["status"] == "ok"


def test_readiness_fails_when_cosmos_is_unreachable(client):
    with override_settings(
        EVA_STORE_BACKEND="cosmos", COSMOS_ENDPOINT="http://127.0.0.1:1/", COSMOS_KEY=os.environ["COSMOS_KEY"]
    ):
        store.cache_clear()
        try:
            response = client.get("/health/ready")
        finally:
            store.cache_clear()
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["store"]["status"] == "failed"


def test_request_log_line_counts_store_calls(client, caplog, configured_backend):
    store().init([])
    with caplog.at_level("INFO", logger="evaapi.request"):
        client.get("/health/ready")
    (record,) = [r for r in caplog.records if r.name == "evaapi.request"]
    assert record.store_calls == 1  # the readiness ping
    # SQLite has no request units; Cosmos (and its emulator) charges for every call.
    if configured_backend == "sqlite":
        assert record.store_request_charge == 0
    else:
        assert record.store_request_charge > 0


def test_job_log_line_counts_store_calls(tmp_path):
    """A real worker runs a job that makes three store calls; its log line says so."""
    env = {**os.environ, "EVA_SQLITE_PATH": str(tmp_path / "job.sqlite3"), "EVA_STORE_BACKEND": "sqlite"}
    enqueue = (
        "import django, django_rq; django.setup(); "
        "job = django_rq.get_queue('default').enqueue('tests.store.jobs.three_store_calls'); print(job.id)"
    )
    job_id = subprocess.run(
        [sys.executable, "-c", enqueue], cwd=PROJECT_DIR, env={**env, "DJANGO_SETTINGS_MODULE": "evaapi.settings"},
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    worker = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", "default"],
        cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True, timeout=60,
    )
    lines = [json.loads(line) for line in (worker.stdout + worker.stderr).splitlines() if line.startswith("{")]
    (job_line,) = [line for line in lines if line.get("message") == "job" and line.get("job_id") == job_id]
    assert job_line["outcome"] == "finished"
    assert job_line["store_calls"] == 3
    assert job_line["request_id"] == job_id
