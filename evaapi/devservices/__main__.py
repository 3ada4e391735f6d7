"""`python -m evaapi.devservices run` (make run), `... test [pytest args]` (make test) and
`... manage <command> [args]` (make manage: manage.py with `make run`'s data and Redis)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evaapi.devservices.processes import ManagedProcess, ServiceFailed, pid_alive, port_open
from evaapi.devservices.services import (
    PROJECT_DIR,
    Endpoints,
    azurite_process,
    cosmos_process,
    redis_process,
)
from evaapi.env import env_int, env_str, load_dotenv


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _stop_all(processes: list[ManagedProcess]) -> list[ManagedProcess]:
    """Stop in reverse start order; return those still alive afterwards (should be none)."""
    for process in reversed(processes):
        process.stop()
    return [p for p in processes if p.pid and pid_alive(p.pid)]


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env={**os.environ, **env}, check=True)


def run_settings() -> tuple[Path, int]:
    """The variables `make run` reads itself (the rest are read by Django's settings and the server)."""
    load_dotenv(PROJECT_DIR / ".env")
    return Path(env_str("EVA_VAR_DIR", str(PROJECT_DIR / "var"))).resolve(), env_int("EVA_HTTP_PORT", 8000)


def _redis_socket(var_dir: Path) -> Path:
    """`make run`'s own Redis listens on a Unix socket under the var dir: no port to collide
    with, and `make manage` finds the same server."""
    return var_dir / "redis" / "redis.sock"


def command_run() -> int:
    var_dir, http_port = run_settings()
    if port_open(http_port):
        print(f"make run: port {http_port} is already in use (another `make run`?); stop what holds it or set "
              "EVA_HTTP_PORT to another port", file=sys.stderr)
        return 1
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    processes: list[ManagedProcess] = []
    env: dict[str, str] = {}
    try:
        if not env_str("REDIS_URL"):
            socket_path = _redis_socket(var_dir)
            redis = redis_process(data_dir=socket_path.parent, log_path=var_dir / "log" / "redis.log",
                                  unix_socket=socket_path).start()
            processes.append(redis)
            redis.wait_until_listening()
            env = {"REDIS_URL": f"unix://{socket_path}"}
            print(f"redis      {env['REDIS_URL']} (pid {redis.pid}, data in {socket_path.parent})", flush=True)
        _manage("migrate", "--noinput", "-v", "0", env=env)
        _manage("init_store", env=env)
        python = sys.executable
        # EVA_HTTP_WORKERS server processes on one socket (evaapi.serve reads it).
        api = ManagedProcess(
            "api", [python, "-m", "evaapi.serve", "--port", str(http_port)], port=http_port, env=env, cwd=PROJECT_DIR
        ).start()
        processes.append(api)
        worker = ManagedProcess(
            "rqworker",
            [python, "manage.py", "rqworker", "default", "documents"],
            env=env,
            cwd=PROJECT_DIR,
        ).start()
        processes.append(worker)
        # Webhook deliveries: one asyncio process sending many at once.
        webhooks = ManagedProcess("webhooks", [python, "manage.py", "webhooks_worker"], env=env,
                                  cwd=PROJECT_DIR).start()
        processes.append(webhooks)
        # Relays events a crash left in outboxes, recovers stuck documents, finishes deletions.
        sweeper = ManagedProcess("sweeper", [python, "manage.py", "sweep"], env=env, cwd=PROJECT_DIR).start()
        processes.append(sweeper)
        api.wait_until_listening(timeout=60)
        base = f"http://127.0.0.1:{http_port}"
        urls = "".join(f"  {base}{path}\n" for path in ("/health", "/health/ready", "/docs", "/admin/"))
        print(f"\nEVA API is running (Ctrl-C stops everything):\n{urls}", flush=True)
        while True:
            for process in processes:
                if process.popen.poll() is not None:
                    print(f"{process.name} exited with {process.popen.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except _Stop:
        return 0
    except (ServiceFailed, subprocess.CalledProcessError) as exc:
        print(f"make run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        survivors = _stop_all(processes)
        print("stopped: " + ", ".join(f"{p.name} (pid {p.pid})" for p in processes), flush=True)
        if survivors:
            print(f"still running: {[p.pid for p in survivors]}", file=sys.stderr)


def command_test(pytest_args: list[str]) -> int:
    log_dir = PROJECT_DIR / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_stop)
    services = [
        redis_process(log_path=log_dir / "redis.log"),
        cosmos_process(log_path=log_dir / "cosmos.log"),
        azurite_process(log_path=log_dir / "azurite.log"),
    ]
    # The suite's own embedded files (SQLite store, Django DB, media) live apart from `make run`'s.
    var_dir = tempfile.mkdtemp(prefix="evaapi-test-")
    try:
        returncode = _run_pytest(services, pytest_args, var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        survivors = _stop_all(services)
    if survivors:
        print(f"FAILED to stop: {[(s.name, s.pid) for s in survivors]}", file=sys.stderr)
        return 1  # a leaked process fails the run whatever pytest said
    print("test services stopped: " + ", ".join(f"{s.name} (pid {s.pid})" for s in services), flush=True)
    return returncode


def _run_pytest(services: list[ManagedProcess], pytest_args: list[str], var_dir: str) -> int:
    pytest = None
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_until_listening()
        redis, cosmos, azurite = services
        env = Endpoints(redis_port=redis.port, cosmos_port=cosmos.port, azurite_port=azurite.port).as_env()
        print("test services: " + ", ".join(f"{s.name} :{s.port} (pid {s.pid})" for s in services), flush=True)
        # pytest shares our terminal's process group, so Ctrl-C reaches it directly and it
        # finishes its own teardown; we only wait, then stop the services.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        pytest = subprocess.Popen(
            [sys.executable, "-m", "pytest", *pytest_args],
            cwd=PROJECT_DIR,
            env={**os.environ, **env, "EVA_ENV": "test", "EVA_VAR_DIR": var_dir},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        return pytest.wait()
    except _Stop:
        if pytest and pytest.poll() is None:
            pytest.terminate()
            pytest.wait()
        return 130
    except ServiceFailed as exc:
        print(f"make test could not start its services: {exc}", file=sys.stderr)
        return 1


def command_manage(args: list[str]) -> int:
    """manage.py with the settings `make run` uses, its Redis included when it is running."""
    var_dir, _ = run_settings()
    env = dict(os.environ)
    socket_path = _redis_socket(var_dir)
    if not env_str("REDIS_URL") and socket_path.exists():
        env["REDIS_URL"] = f"unix://{socket_path}"
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return command_run()
    if argv[:1] == ["manage"]:
        return command_manage(argv[1:])
    if argv[:1] == ["test"]:
        rest = argv[1:]
        return command_test(rest[1:] if rest[:1] == ["--"] else rest)
    print("usage: python -m evaapi.devservices run | test [-- pytest args] | manage <command> [args]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
