"""The API server itself (python -m evaapi.serve: uvicorn, the ASGI application) on a free
loopback port, for tests that must go through the real server and the ASGI stack."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from evaapi.devservices.processes import ManagedProcess, free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
SERVER_ENV = {
    "RATE_LIMIT_UNAUTHENTICATED": "1/3",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    "MAX_REQUEST_BODY_BYTES": str(1024 * 1024),
    "EVA_MAX_UPLOAD_MB": "4",
    # Tests name their own client address in X-Forwarded-For, so per-address limits stay apart.
    "TRUSTED_PROXIES": "127.0.0.1",
}


@contextmanager
def api_server(*, app: str = "evaapi.asgi:application", workers: int = 1, env: dict | None = None):
    """Yields the server's base URL; stops it, and its workers, by PID afterwards."""
    port = free_port()
    log_dir = PROJECT_DIR / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = ManagedProcess(
        "api",
        [sys.executable, "-m", "evaapi.serve", "--app", app, "--port", str(port), "--workers", str(workers)],
        port=port,
        log_path=log_dir / f"api-{port}.log",
        env=env or {},
        cwd=PROJECT_DIR,
    ).start()
    try:
        server.wait_until_listening(timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server_url():
    # The server's own Django database (users, sessions) is the var dir's file, not the test database.
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=PROJECT_DIR,
                   env=os.environ, check=True)
    with api_server(env=SERVER_ENV) as url:
        yield url
