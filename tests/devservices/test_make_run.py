"""`make run`'s supervisor, end to end: embedded Redis, migrations, init_store, the API server
(two worker processes on one port) and an rq worker on a fresh var dir; then SIGINT (what
Ctrl-C sends) stops every process it started, the server's workers included."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from evaapi.devservices.processes import free_port, pid_alive

PROJECT_DIR = Path(__file__).resolve().parents[2]


def get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(url: str, process, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "make run exited early"
        try:
            return get_json(url)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def _make_run(tmp_path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EVA_VAR_DIR", "EVA_ENV"}}
    env.update(EVA_VAR_DIR=str(tmp_path / "var"), EVA_HTTP_PORT=str(port), EVA_HTTP_WORKERS="2")
    return subprocess.Popen(
        [sys.executable, "-m", "evaapi.devservices", "run"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_make_run_serves_health_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    process = _make_run(tmp_path, port)
    descendants = []
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/health", process)
        assert (status, body["status"]) == (200, "healthy")
        status, body = get_json(f"http://127.0.0.1:{port}/health/ready")
        assert status == 200, body
        assert set(body["checks"]) == {"redis", "store"}
        descendants = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    started = {name: int(pid) for name, pid in re.findall(r"(\w+) \(pid (\d+)\)", output.split("stopped:")[-1])}
    assert set(started) == {"redis", "api", "rqworker", "webhooks", "sweeper"}, output
    assert not [name for name, pid in started.items() if pid_alive(pid)]
    # The server's two workers (and anything else started on the way) are gone too.
    assert len(descendants) >= 5, descendants
    assert not [p.pid for p in descendants if pid_alive(p.pid)]
    assert (tmp_path / "var" / "store.sqlite3").exists()
    assert (tmp_path / "var" / "redis").is_dir()


def test_a_second_make_run_on_a_taken_port_fails_at_once_naming_the_setting(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        process = _make_run(tmp_path, port)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert f"port {port} is already in use" in output
    assert "EVA_HTTP_PORT" in output
    assert "EVA API is running" not in output
