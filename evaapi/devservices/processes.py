"""Child processes that are started on loopback, waited on until they answer, and stopped by PID."""

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the harness itself is killed (SIGKILL included), the kernel sends SIGTERM to its
    # children, so no emulator outlives it.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited but not been reaped; it is not running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


class ServiceFailed(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    """One child process in its own process group, logging to `log_path` (or to our own
    stdout when None, for the processes a person watches under `make run`)."""

    name: str
    argv: list[str]
    port: int | None = None
    log_path: Path | None = None
    env: dict[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> "ManagedProcess":
        stdout = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(self.env or {})},
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if stdout is not None:
                stdout.close()
        return self

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise ServiceFailed(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
            if port_open(self.port):
                return
            time.sleep(0.02)
        raise ServiceFailed(f"{self.name} did not listen on port {self.port} within {timeout:g}s; see {self.log_path}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL after `timeout`, and return only once it is gone."""
        if not self.popen or self.popen.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue
