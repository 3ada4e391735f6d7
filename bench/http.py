"""HTTP throughput benchmark: EVA against a bare ASGI app and the Django floor, under one server.

    .venv/bin/python bench/http.py [--duration 10] [--workers N] [--scale-workers 1 2] [--quick]

Starts each target, one at a time, with the very launcher production uses (`python -m
evaapi.serve`: uvicorn with uvloop and httptools, N worker processes sharing one socket) and the
same worker count, drives it with wrk at 1 and at 50 connections, and stops it by PID before the
next one starts:

- a bare ASGI app answering EVA's `/health` JSON (bench/apps/bare.py): what the server costs;
- the Django floor (bench/apps/floor.py): one async JsonResponse view, no middleware, no apps;
- EVA itself (evaapi.asgi:application) on a fresh SQLite store and its own Redis: `/health`,
  an authenticated point read and an authenticated list (EVA_READS below);
- for reference (not in any goal): the floor without the thread Django's stock ASGI handler
  starts for every request (bench/apps/floor_kept_thread.py), which shows how much of the
  floor's cost that thread is; and the bare app and the floor under daphne (one process), the
  server EVA used before: why the project serves with uvicorn.

Then it measures worker scaling (bare app, floor and EVA's point read at `--scale-workers`, 50
connections) and prints the goals of issue 8 beside the measured values. It only prints: nothing
here fails on a slow number, and the tests never run it.

The load comes from wrk, a load generator written in C (Debian package `wrk`), never from Python:
a Python client (aiohttp, httpx, locust) spends more CPU per request than the server under test
does, so it would measure itself. wrk keeps every connection busy from one thread at a few
microseconds per request. Its `--latency` report has no p95, so the percentiles and the error
counts come from a small Lua `done()` hook the script writes to a temp file.

The machine's cores are shared by wrk and the server; on a small machine wrk's own core is part
of what limits the multi-worker rows (the bare app's growth shows how much)."""

import sys
from pathlib import Path

# Run as `python bench/http.py`, this file's directory comes first on sys.path and this module
# would shadow the standard library's `http` (which urllib and Django import). Drop it.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402

from evaapi import __version__  # noqa: E402
from evaapi.devservices.processes import ManagedProcess, ServiceFailed, free_port, pid_alive  # noqa: E402
from evaapi.devservices.services import redis_process  # noqa: E402

PROJECT_DIR = _HERE.parent
PYTHON = sys.executable
CONNECTIONS = (1, 50)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEALTH_BODY = {"status": "healthy", "version": __version__}

# EVA's rows: (label, path) pairs. Paths under /api/ are sent with the benchmark key; {key_id}
# and any later placeholder are filled from the fixtures eva_prepare makes. Later issues add
# their space and document reads here (and their fixtures to eva_prepare).
EVA_HEALTH, EVA_POINT_READ, EVA_LIST = "EVA /health", "EVA point read", "EVA list"
EVA_SPACE_READ, EVA_SPACE_LIST = "EVA space read", "EVA space list"
EVA_READS: list[tuple[str, str]] = [
    (EVA_HEALTH, "/health"),
    (EVA_POINT_READ, "/api/v1/auth/api-keys/{key_id}"),
    (EVA_LIST, "/api/v1/auth/api-keys"),
    (EVA_SPACE_READ, "/api/v1/spaces/{space_id}"),
    (EVA_SPACE_LIST, "/api/v1/spaces"),
]

KEPT_THREAD = "floor, kept thread (ref)"

# The goals of issue 8 ("A fast request path, on every core").
GOAL_HEALTH_SHARE = 0.80
GOAL_POINT_READ_SHARE = 0.50
GOAL_POINT_READ_P99 = 3.0
GOAL_GROWTH = 1.5
# Issue 9's: a space read is an authenticated point read of domain data.
GOAL_SPACE_READ_SHARE = 0.50

# wrk's done() hook: one JSON line with the percentiles (µs) and the error counts. wrk counts
# a response with status > 399 in errors.status; a response() hook to count other non-2xx
# would make wrk parse every response in Lua and become the bottleneck, so instead every path
# is checked to answer 200 before it is loaded.
WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %.1f, "p95_us": %.1f, "p99_us": %.1f, '
    .. '"max_us": %.1f, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


# --- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout
    return out.split(" Copyright", 1)[0].removeprefix("wrk ").strip() or "unknown"


def machine(wrk: str) -> str:
    return (
        f"{platform.platform()} | {cpu_model()} | {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)\n"
        f"Python {platform.python_version()} | wrk {wrk_version(wrk)} | uvicorn {version('uvicorn')} | "
        f"uvloop {version('uvloop')} | httptools {version('httptools')} | daphne {version('daphne')} | "
        f"Django {version('django')} | EVA {__version__}\n"
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} | {checkout()} | "
        f"load average before the run: {load_average()}"
    )


def checkout() -> str:
    """The commit and how many files differ from it: others may be editing this checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_DIR, capture_output=True, text=True,
                                check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {head}" + (f" + {len(status)} uncommitted changes" if status else "")


def source_stamp() -> dict[str, int]:
    """The modification time of every Python file of the application (not bench/), to notice code
    that changed while the run was measuring it."""
    stamp = {}
    for top in PROJECT_DIR.iterdir():
        if top.name in {".venv", "node_modules", "var", "bench", "tests", "docs"} or top.name.startswith("."):
            continue
        for path in [top] if top.suffix == ".py" else top.rglob("*.py") if top.is_dir() else []:
            with contextlib.suppress(OSError):
                stamp[str(path.relative_to(PROJECT_DIR))] = path.stat().st_mtime_ns
    return stamp


# --- processes --------------------------------------------------------------------------------


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state is [0], session [3])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def session_pids(sid: int) -> list[int]:
    """Every live process of the session `sid` (a ManagedProcess starts a session: its PID)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields and fields[0] != "Z" and int(fields[3]) == sid:
                pids.append(int(entry.name))
    return pids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total


@dataclass
class Processes:
    """Everything the run starts, so all of it is stopped (by PID) whatever happens."""

    started: list[ManagedProcess] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)

    def start(self, process: ManagedProcess) -> ManagedProcess:
        self.started.append(process)
        process.start()
        self.sessions.add(process.pid)
        return process

    def stop(self, process: ManagedProcess) -> None:
        process.stop()
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> list[int]:
        """Stops what is still running and returns the PIDs of any process that survived."""
        for process in reversed(self.started):
            process.stop()
        self.started.clear()
        deadline = time.monotonic() + 5
        survivors = [pid for sid in self.sessions for pid in session_pids(sid)]
        while survivors and time.monotonic() < deadline:
            time.sleep(0.1)
            survivors = [pid for pid in survivors if pid_alive(pid)]
        return survivors


def server_argv(server: str, app: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return [PYTHON, "-m", "evaapi.serve", "--app", app, "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers)]
    # -v 0: no access log line per request (evaapi.serve turns uvicorn's off too).
    return [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", app]


def wait_ready(process: ManagedProcess, workers: int, timeout: float = 90.0) -> None:
    """Until the port answers and every worker has loaded the application: the session holds
    the expected processes and their CPU time has stopped growing (imports done)."""
    process.wait_until_listening(timeout=timeout)
    expected = workers + 1 if workers > 1 else 1
    deadline = time.monotonic() + timeout
    quiet, last = 0, None
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise ServiceFailed(f"{process.name} exited with {process.popen.returncode}; see {process.log_path}")
        pids = session_pids(process.pid)
        ticks = cpu_ticks(pids)
        quiet = quiet + 1 if len(pids) >= expected and last is not None and ticks - last <= 2 else 0
        if quiet >= 3:
            return
        last = ticks
        time.sleep(0.25)
    print(f"  (warning: {process.name} still busy after {timeout:g}s; measuring anyway)")


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class Result:
    target: str
    server: str
    workers: int
    connections: int
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int
    error_detail: str
    others: float  # cores taken by anything but the server, wrk and this script (steal included)


def busy_ticks() -> int:
    """CPU ticks the machine has spent busy since boot (user, nice, system, irq, softirq), plus, in
    a virtual machine, the ticks the hypervisor gave to someone else while we were ready (steal)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal


def own_ticks(server_pids: list[int]) -> int:
    """Ticks of the server's processes, this script and its reaped children (wrk)."""
    times = os.times()
    return cpu_ticks(server_pids) + round(sum(times[:4]) * CLOCK_TICKS)


def wrk_run(wrk: str, script: Path, url: str, connections: int, seconds: float,
            headers: dict[str, str]) -> dict:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in out.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk gave no result (exit {process.returncode}):\n{out}")


def measure(wrk: str, script: Path, target: str, server: str, workers: int, url: str, connections: int,
            seconds: float, headers: dict[str, str], server_pids: list[int]) -> Result:
    busy, own, wall = busy_ticks(), own_ticks(server_pids), time.monotonic()
    raw = wrk_run(wrk, script, url, connections, seconds, headers)
    others = ((busy_ticks() - busy) - (own_ticks(server_pids) - own)) / CLOCK_TICKS / (time.monotonic() - wall)
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    detail = ", ".join(f"{name} {raw[name]}" for name in ("connect", "read", "write", "timeout", "status")
                       if raw[name])
    return Result(
        target=target,
        server=server,
        workers=workers,
        connections=connections,
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50=raw["p50_us"] / 1000,
        p95=raw["p95_us"] / 1000,
        p99=raw["p99_us"] / 1000,
        errors=socket_errors + raw["status"],
        error_detail=detail,
        others=max(others, 0.0),
    )


# --- EVA's fixtures ---------------------------------------------------------------------------

_FIXTURES = """
import json
from evaapi.auth.scopes import ADMIN
from evaapi.auth.services.api_keys import api_key_create
from evaapi.auth.services.tenants import tenant_create
tenant = tenant_create(name="bench", tier="enterprise")
_, secret = api_key_create(tenant=tenant, actor="bench", name="bench caller", scopes=[ADMIN])
target, _ = api_key_create(tenant=tenant, actor="bench", name="bench point-read target", scopes=[ADMIN])
from spaces.services import space_create
spaces = [space_create(tenant=tenant, actor="bench", name=f"bench space {n}", tags=["bench"]) for n in range(25)]
print("BENCH_FIXTURES " + json.dumps({"tenant_id": tenant.id, "secret": secret, "key_id": target.id,
                                      "space_id": spaces[0].id}))
"""


def eva_env(tmp: Path, redis_port: int) -> dict[str, str]:
    var = tmp / "eva-var"
    var.mkdir()
    return {
        "EVA_ENV": "development",
        "DEBUG": "false",
        # INFO would write one JSON line per request; at these rates that line is what gets measured.
        "LOG_LEVEL": "WARNING",
        "EVA_VAR_DIR": str(var),
        "EVA_STORE_BACKEND": "sqlite",
        "EVA_SQLITE_PATH": str(var / "store.sqlite3"),
        "DATABASE_URL": f"sqlite:///{var / 'django.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Empty means the default (free=60/10,...,enterprise=unlimited), and keeps any .env value out.
        "RATE_LIMIT_TIERS": "",
        "DJANGO_SETTINGS_MODULE": "evaapi.settings",
    }


def eva_prepare(env: dict[str, str]) -> dict[str, str]:
    """migrate, init_store, then an enterprise (unlimited) tenant, the admin key the requests
    carry and a second key for the point read to fetch."""
    full_env = {**os.environ, **env}
    for argv in (["migrate", "--no-input", "-v", "0"], ["init_store"], ["shell", "-c", _FIXTURES]):
        done = subprocess.run([PYTHON, "manage.py", *argv], cwd=PROJECT_DIR, env=full_env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_FIXTURES "):
            return json.loads(line.removeprefix("BENCH_FIXTURES "))
    raise RuntimeError(f"the fixture script printed no fixtures:\n{done.stdout}\n{done.stderr}")


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Bench:
    wrk: str
    script: Path
    tmp: Path
    seconds: float
    warmup: float
    processes: Processes
    fixtures: dict[str, str] = field(default_factory=dict)
    eva_env: dict[str, str] = field(default_factory=dict)
    measured: list[Result] = field(default_factory=list)
    redis_pid: int | None = None  # EVA's Redis: its CPU is part of EVA's work, not other people's

    def serve(self, name: str, server: str, app: str, workers: int, reads: list[tuple[str, str]],
              connections: tuple[int, ...], env: dict[str, str] | None = None) -> list[Result]:
        """Starts one target, loads each of its paths (warm-up first, not reported), stops it."""
        port = free_port()
        log = self.tmp / f"{name.replace(' ', '-').replace('/', '')}-{server}-{workers}.log"
        process = ManagedProcess(f"{name} ({server}, {workers} worker(s))", server_argv(server, app, port, workers),
                                 port=port, log_path=log, env=env, cwd=PROJECT_DIR)
        print(f"  {process.name} ...", flush=True)
        results = []
        self.processes.start(process)
        try:
            try:
                wait_ready(process, workers)
            except ServiceFailed as exc:
                raise ServiceFailed(f"{exc}\n{log_tail(log)}") from None
            for label, path in reads:
                url = f"http://127.0.0.1:{port}{path.format(**self.fixtures)}"
                headers = {"Authorization": f"Bearer {self.fixtures['secret']}"} if path.startswith("/api/") else {}
                status, body = fetch(url, headers)
                if status != 200:
                    raise RuntimeError(f"{label}: GET {path} answered {status}, not 200: {body[:500]!r}\n"
                                       f"{log_tail(log)}")
                if path == "/health" and json.loads(body) != HEALTH_BODY:
                    raise RuntimeError(f"{label}: /health answered {body!r}, not {HEALTH_BODY}")
                wrk_run(self.wrk, self.script, url, max(connections), self.warmup, headers)
                pids = session_pids(process.pid) + ([self.redis_pid] if self.redis_pid else [])
                for count in connections:
                    results.append(measure(self.wrk, self.script, label, server, workers, url, count, self.seconds,
                                           headers, pids))
                    self.measured.append(results[-1])
        finally:
            self.processes.stop(process)
        return results


def table(results: list[Result], floor: dict[tuple[int, int], Result]) -> str:
    header = ("target", "server", "workers", "conns", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              "req/s vs floor", "p99 vs floor", "others' CPU")
    rows = [header]
    for r in results:
        base = floor.get((r.workers, r.connections)) if r.target.startswith("EVA") else None
        rows.append((
            r.target, r.server, str(r.workers), str(r.connections), f"{r.rps:,.0f}", f"{r.p50:.2f}", f"{r.p95:.2f}",
            f"{r.p99:.2f}", str(r.errors),
            f"{r.rps / base.rps:.0%}" if base else "",
            f"{r.p99 / base.p99:.2f}x" if base else "",
            f"{r.others:.2f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    notes = [f"  errors in {r.target} ({r.server}, {r.workers}w, {r.connections}c): {r.error_detail}"
             for r in results if r.errors]
    return "\n".join(lines + notes)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per reported row (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes for the main table (default: the number of cores)")
    parser.add_argument("--scale-workers", type=int, nargs=2, default=(1, 2), metavar=("FROM", "TO"),
                        help="the two worker counts the scaling section compares (default 1 2)")
    parser.add_argument("--quick", action="store_true", help="2-second rows and warm-ups: a smoke run")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.duration
    warmup = 1.0 if args.quick else min(3.0, seconds)
    low, high = args.scale_workers

    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench/http.py needs wrk, a load generator written in C (a Python one would be the bottleneck).\n"
              "Install it:  apt-get install wrk   (Debian/Ubuntu; `brew install wrk` on macOS)", file=sys.stderr)
        return 2

    print(f"EVA API HTTP benchmark\n{machine(wrk)}")
    print(f"wrk -t1, {seconds:g} s per row after a {warmup:g} s warm-up (not reported); main table at "
          f"{args.workers} worker(s); EVA with LOG_LEVEL=WARNING, so its per-request log line (INFO) is not "
          "written; SQLite store and Redis on this machine.\n", flush=True)

    processes = Processes()
    started, sources = time.monotonic(), source_stamp()
    bench = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp_name:
            tmp = Path(tmp_name)
            script = tmp / "report.lua"
            script.write_text(WRK_SCRIPT)
            bench = Bench(wrk=wrk, script=script, tmp=tmp, seconds=seconds, warmup=warmup, processes=processes)

            redis = processes.start(redis_process(log_path=tmp / "redis.log"))
            redis.wait_until_listening()
            bench.redis_pid = redis.pid
            bench.eva_env = eva_env(tmp, redis.port)
            print("Preparing EVA (migrate, init_store, tenant and keys) ...", flush=True)
            bench.fixtures = eva_prepare(bench.eva_env)

            print(f"Main table ({args.workers} worker(s) under uvicorn via evaapi.serve; daphne rows for reference):")
            bare = bench.serve("bare ASGI", "uvicorn", "bench.apps.bare:application", args.workers,
                               [("bare ASGI /health", "/health")], CONNECTIONS)
            floor = bench.serve("Django floor", "uvicorn", "bench.apps.floor:application", args.workers,
                                [("Django floor /health", "/health")], CONNECTIONS)
            eva = bench.serve("EVA", "uvicorn", "evaapi.asgi:application", args.workers, EVA_READS, CONNECTIONS,
                              env=bench.eva_env)
            reference = bench.serve("Django floor, kept thread", "uvicorn", "bench.apps.floor_kept_thread:application",
                                    args.workers, [(KEPT_THREAD, "/health")], CONNECTIONS)
            reference += bench.serve("bare ASGI", "daphne", "bench.apps.bare:application", 1,
                                    [("bare ASGI /health (ref)", "/health")], CONNECTIONS)
            reference += bench.serve("Django floor", "daphne", "bench.apps.floor:application", 1,
                                     [("Django floor /health (ref)", "/health")], CONNECTIONS)

            print(f"Worker scaling ({low} then {high} worker(s), 50 connections):")
            scaling: dict[str, dict[int, Result]] = {}
            for name, app, reads, env in (
                ("bare ASGI", "bench.apps.bare:application", [("bare ASGI /health", "/health")], None),
                ("Django floor", "bench.apps.floor:application", [("Django floor /health", "/health")], None),
                ("EVA", "evaapi.asgi:application", [r for r in EVA_READS if r[0] == EVA_POINT_READ], bench.eva_env),
            ):
                for workers in (low, high):
                    (result,) = bench.serve(name, "uvicorn", app, workers, reads, (50,), env=env)
                    scaling.setdefault(result.target, {})[workers] = result
    except BaseException as exc:
        if bench and bench.measured:
            print(f"\nStopped by {type(exc).__name__}; the rows measured until then:\n\n{table(bench.measured, {})}")
        if isinstance(exc, KeyboardInterrupt):
            print("\nInterrupted.", file=sys.stderr)
            return 130
        raise
    finally:
        survivors = processes.stop_all()
        if survivors:
            print(f"\nWARNING: processes still running after the stop: {survivors}", file=sys.stderr)
        else:
            print("Every process the bench started has been stopped.", flush=True)

    floor_by = {(r.workers, r.connections): r for r in floor}
    print(f"\nResults (run took {time.monotonic() - started:.0f} s; load average after: {load_average()})\n")
    print(table(bare + floor + eva + reference, floor_by))
    print("\n  req/s vs floor and p99 vs floor: EVA's row against the Django floor's at the same workers and "
          "connections.\n  errors: wrk's socket errors (connect, read, write, timeout) plus responses with "
          "status >= 400.\n  others' CPU: cores taken during the row by anything but the server, wrk and this "
          "script: other people's\n  processes, and in a VM the hypervisor's steal. Well above 0 means that row "
          "had less CPU than the rest.")

    print(f"\nWorker scaling: {low} -> {high} worker(s) at 50 connections\n")
    width = max(len(name) for name in scaling)
    for name, by_workers in scaling.items():
        a, b = by_workers[low], by_workers[high]
        print(f"  {name.ljust(width)}  {a.rps:>9,.0f} req/s -> {b.rps:>9,.0f} req/s   growth {b.rps / a.rps:.2f}x   "
              f"(p99 {a.p99:.2f} -> {b.p99:.2f} ms, errors {a.errors + b.errors}, others' CPU {a.others:.2f} / "
              f"{b.others:.2f})")

    def main_row(label: str) -> Result:
        return next(r for r in eva if r.target == label and r.connections == 50)

    floor50 = floor_by[(args.workers, 50)]
    health50, read50, space50 = main_row(EVA_HEALTH), main_row(EVA_POINT_READ), main_row(EVA_SPACE_READ)
    growth = {name: by[high].rps / by[low].rps for name, by in scaling.items()}
    eva_growth = growth[EVA_POINT_READ]
    print(f"\nGoals of issue 8 (measured in this run; {args.workers} worker(s), 50 connections):\n")
    goals = [
        (f"/health >= {GOAL_HEALTH_SHARE:.0%} of the floor's req/s",
         f"{health50.rps:,.0f} vs {floor50.rps:,.0f} = {health50.rps / floor50.rps:.0%}",
         health50.rps >= GOAL_HEALTH_SHARE * floor50.rps),
        (f"point read >= {GOAL_POINT_READ_SHARE:.0%} of the floor's req/s",
         f"{read50.rps:,.0f} vs {floor50.rps:,.0f} = {read50.rps / floor50.rps:.0%}",
         read50.rps >= GOAL_POINT_READ_SHARE * floor50.rps),
        (f"point read p99 <= {GOAL_POINT_READ_P99:g}x the floor's p99",
         f"{read50.p99:.2f} ms vs {floor50.p99:.2f} ms = {read50.p99 / floor50.p99:.2f}x",
         read50.p99 <= GOAL_POINT_READ_P99 * floor50.p99),
        (f"space read >= {GOAL_SPACE_READ_SHARE:.0%} of the floor's req/s (issue 9)",
         f"{space50.rps:,.0f} vs {floor50.rps:,.0f} = {space50.rps / floor50.rps:.0%}",
         space50.rps >= GOAL_SPACE_READ_SHARE * floor50.rps),
        (f"point read grows >= {GOAL_GROWTH:g}x from {low} to {high} workers",
         f"{eva_growth:.2f}x (floor {growth['Django floor /health']:.2f}x, bare {growth['bare ASGI /health']:.2f}x)",
         eva_growth >= GOAL_GROWTH),
    ]
    width = max(len(goal) for goal, _, _ in goals)
    value_width = max(len(value) for _, value, _ in goals)
    for goal, value, met in goals:
        print(f"  {goal.ljust(width)}  {value.ljust(value_width)}  {verdict(met)}")
    kept = next(r for r in reference if r.target == KEPT_THREAD and r.connections == 50)
    print(f"\n  Not a goal: against the floor without Django's per-request thread ({kept.rps:,.0f} req/s, p99 "
          f"{kept.p99:.2f} ms),\n  /health is {health50.rps / kept.rps:.0%} of it and the point read "
          f"{read50.rps / kept.rps:.0%}, p99 {read50.p99 / kept.p99:.2f}x.")

    now = source_stamp()
    changed = sorted(name for name in set(now) | set(sources) if now.get(name) != sources.get(name))
    if changed:
        shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
        print(f"\nWARNING: {len(changed)} application file(s) changed while the run measured them, so rows "
              f"before and after\nmay measure different code: {shown}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
