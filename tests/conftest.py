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
