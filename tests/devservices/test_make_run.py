"""`make run`'s supervisor, end to end: embedded Redis, migrations, init_store, daphne and an rq
worker on a fresh var dir; then SIGINT (what Ctrl-C sends) stops every process it started."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def test_make_run_serves_health_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EVA_VAR_DIR", "EVA_ENV"}}
    env.update(EVA_VAR_DIR=str(tmp_path / "var"), EVA_HTTP_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "evaapi.devservices", "run"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/health", process)
        assert (status, body["status"]) == (200, "healthy")
        status, body = get_json(f"http://127.0.0.1:{port}/health/ready")
        assert status == 200, body
        assert set(body["checks"]) == {"redis", "store"}
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    started = {name: int(pid) for name, pid in re.findall(r"(\w+) \(pid (\d+)\)", output.split("stopped:")[-1])}
    assert set(started) == {"redis", "daphne", "rqworker"}, output
    assert not [name for name, pid in started.items() if pid_alive(pid)]
    assert (tmp_path / "var" / "store.sqlite3").exists()
    assert (tmp_path / "var" / "redis").is_dir()
