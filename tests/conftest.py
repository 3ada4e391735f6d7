import os

import pytest


def pytest_configure(config):
    if not os.environ.get("COSMOS_ENDPOINT"):
        raise pytest.UsageError(
            "The suite needs the local services its harness starts: run `make test` "
            "(or `.venv/bin/python -m evaapi.devservices test -- <pytest args>`)."
        )


@pytest.fixture(scope="session", autouse=True)
def _store_initialised():
    """The configured store (SQLite in the suite's temporary var dir) with every container."""
    from evaapi.store import container_specs, store

    store().init(container_specs())


@pytest.fixture
def tenant():
    from tests.factories import tenant_make

    return tenant_make()


@pytest.fixture
def admin_client(tenant):
    from tests.factories import api_key_make, client_for

    return client_for(api_key_make(tenant))


@pytest.fixture(autouse=True)
def _refused_requests_unlimited(settings):
    """The suite sends many 401s and 403s from 127.0.0.1; only the tests of that limit set one."""
    from evaapi.auth.refusals import client_refusals_forget

    settings.RATE_LIMIT_UNAUTHENTICATED = "unlimited"
    yield
    client_refusals_forget()


@pytest.fixture(params=["sqlite+filesystem", "cosmos+azurite"])
def deployment(request, settings, tmp_path):
    """The store and file storage a deployment runs on: the embedded ones, or the local Cosmos DB
    emulator and Azurite. Yields the environment a worker process needs to see the same."""
    import uuid

    import django_rq

    from evaapi.store import container_specs, store

    store_name, blobs = request.param.split("+")
    env = {"EVA_STORE_BACKEND": store_name, "EVA_BLOB_BACKEND": "azure" if blobs == "azurite" else "filesystem"}
    settings.EVA_STORE_BACKEND = store_name
    if store_name == "cosmos":
        env["COSMOS_DATABASE"] = settings.COSMOS_DATABASE = f"t-{uuid.uuid4().hex[:10]}"
    else:
        env["EVA_SQLITE_PATH"] = str(tmp_path / "store.sqlite3")
        settings.EVA_SQLITE_PATH = tmp_path / "store.sqlite3"
    if blobs == "azurite":
        container = f"documents-{uuid.uuid4().hex[:10]}"
        env["AZURE_STORAGE_CONTAINER"] = container
        settings.STORAGES = {**settings.STORAGES, "documents": {
            "BACKEND": "storages.backends.azure_storage.AzureStorage",
            "OPTIONS": {"connection_string": os.environ["AZURE_STORAGE_CONNECTION_STRING"],
                        "azure_container": container},
        }}
    else:
        env["MEDIA_ROOT"] = str(tmp_path / "media")
        settings.STORAGES = {**settings.STORAGES, "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media" / "documents")},
        }}
    store.cache_clear()
    store().init(container_specs())
    # Jobs other tests queued belong to their stores, not this one.
    for name in ("documents", "default"):
        django_rq.get_queue(name).empty()
    yield env
    store.cache_clear()


@pytest.fixture
def recorded_events():
    """Every event published while the test runs, in order (a sink of the test's own)."""
    from evaapi.events.sinks import Sink, sink_register, sink_unregister

    published = []
    sink_register(Sink("test.recording", published.append))
    yield published
    sink_unregister("test.recording")
