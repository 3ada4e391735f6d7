import os

import pytest


def pytest_configure(config):
    if not os.environ.get("COSMOS_ENDPOINT"):
        raise pytest.UsageError(
            "The suite needs the local services its harness starts: run `make test` "
            "(or `.venv/bin/python -m evaapi.devservices test -- <pytest args>`)."
        )
