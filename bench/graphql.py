"""GraphQL benchmark: issue 12's nested report through /graphql, beside the same data through REST and the floor.

    .venv/bin/python bench/graphql.py [--duration 10] [--workers N] [--rounds 30] [--quick]

Run it from the project root; it needs wrk (Debian package `wrk`). It follows bench/http.py and
imports its pieces (the server launcher and readiness wait, the Lua `done()` hook, the machine
header, the process bookkeeping, the results table): in a temp dir, its own Redis and a fresh
SQLite store; in this process, `migrate`, the store's containers and the data, written through
the repositories by tests/graphql/data.py (its space_filled): one enterprise (unlimited) tenant, an
admin key, 50 spaces (`space_create`), each with 20 processed documents and 5 completed queries
whose results cite 2 of its documents.

Then, one target at a time, each under `python -m evaapi.serve` with the same worker count and
stopped by PID before the next, wrk -t1 at 10 connections (a warm-up first, not reported, then
a wait until the server's CPU is quiet, so no warm-up request is still running):

1. the Django floor (bench/apps/floor.py), `/health`: the baseline of bench/http.py;
2. EVA, a single REST space read, `GET /api/v1/spaces/{id}`: the goal's baseline;
3. EVA, the nested report (NESTED below, `spaces: 50`) POSTed to `/graphql`;
4. EVA, the same data through REST: `GET /api/v1/spaces?limit=50`, then for each space
   `/spaces/{id}/documents?limit=20` and `/spaces/{id}/queries?limit=5`, then each cited
   document `/documents/{id}`: 1 + 50 + 50 + 100 = 201 requests, which a Lua `request()`
   function sends in turn, cycling.

EVA runs with LOG_LEVEL=INFO, so it writes its one JSON line per request (RequestIdMiddleware,
logger `evaapi.request`) with the request's store calls and its time inside the application;
the bench reads them from the server's log for each row. The report costs 14,001 by the
server's own pre-execution measure (evaapi.graphql.limits), above the default GRAPHQL_MAX_COST
of 1,000: EVA runs with GRAPHQL_MAX_COST=20000. Before it is loaded, the report is checked (50
spaces with 20 documents each, 5 answers each, no "errors") and every REST path is walked once
as a client would (each must answer 200). One second into each row, the bench counts the
connections each worker holds: wrk's keep-alive connections stay on the worker that accepted
them, and the split decides how many reports each worker's event loop runs at once.

Before the servers start, the bench also times one report in this process, without HTTP, on a
uvloop event loop as in the server, step by step as the view takes them (authentication; the
operation prepared: parsed, validated, its depth and cost measured; executed; the JSON
response), with the execution's store calls and the asyncio tasks it creates: where a report's
time goes. Its baseline, timed round by round beside it: the same 4 store calls through the
selectors the DataLoaders call, without GraphQL (the data alone).

bench/http.py's wrk runner gives up on a response after 5 s; a report at 10 connections takes
seconds, so this file runs wrk (its own small runner) with --timeout 30s: a timed-out request
has no latency in wrk's histogram, so the slowest would be left out of the p95.

It prints the goal of issue 12 (GraphQL p95 <= 5x the space read's p95, same run) with the
measured values. It only prints: nothing here fails on a slow number, and the tests never run it."""

import sys
from pathlib import Path

# Run as `python bench/graphql.py`, this file's directory comes first on sys.path, where this
# module would shadow the `graphql` library (graphql-core) and bench/http.py the standard
# library's `http`. Drop it; the project root makes `bench.http` importable.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from bench.http import (  # noqa: E402
    CLOCK_TICKS,
    HEALTH_BODY,
    WRK_SCRIPT,
    Processes,
    Result,
    busy_ticks,
    cpu_ticks,
    eva_env,
    fetch,
    load_average,
    log_tail,
    machine,
    own_ticks,
    server_argv,
    session_pids,
    source_stamp,
    table,
    verdict,
    wait_ready,
)
from evaapi.devservices.processes import ManagedProcess, ServiceFailed, free_port  # noqa: E402
from evaapi.devservices.services import redis_process  # noqa: E402

PROJECT_DIR = _HERE.parent
CONNECTIONS = 10
SPACES, DOCUMENTS, QUERIES, CITATIONS = 50, 20, 5, 2
MAX_COST = 20_000  # the report costs 14,001 (tests/graphql/test_dataloaders.py runs it at 20,000 too)
WRK_TIMEOUT = 30  # seconds
GOAL_P95_FACTOR = 5.0

NESTED = """query Nested($spaces: Int!) {
  spaces(first: $spaces) { edges { node {
    name
    documents(first: 20) { edges { node { filename space { name } } } pageInfo { hasNextPage } }
    queryRuns(first: 5) { edges { node { question result { citations { document { filename } } } } } }
  } } }
}"""
NESTED_BODY = json.dumps({"query": NESTED, "variables": {"spaces": SPACES}})

FLOOR = "Django floor /health"
SPACE_READ = "EVA space read"
GRAPHQL = "EVA GraphQL report"
NO_GRAPHQL = "EVA report without GraphQL"
REST = "EVA REST report (201 paths)"

# The request log line's path, by kind (the rows' own paths and the REST walk's).
PATH_KINDS = [
    ("/graphql", re.compile(r"^/graphql$")),
    ("/bench/report", re.compile(r"^/bench/report$")),
    ("spaces list", re.compile(r"^/api/v1/spaces$")),
    ("space read", re.compile(r"^/api/v1/spaces/[^/]+$")),
    ("documents of a space", re.compile(r"^/api/v1/spaces/[^/]+/documents$")),
    ("queries of a space", re.compile(r"^/api/v1/spaces/[^/]+/queries$")),
    ("document read", re.compile(r"^/api/v1/documents/[^/]+$")),
]


def post_script() -> str:
    """wrk: POST the report (a Lua long string holds the JSON as is), then the done() hook."""
    return ('wrk.method = "POST"\nwrk.body = [==[' + NESTED_BODY + ']==]\n'
            'wrk.headers["Content-Type"] = "application/json"\n' + WRK_SCRIPT)


def sequence_script(paths: list[str]) -> str:
    """wrk: GET each path in turn, cycling (one wrk thread: one Lua state, one counter shared by
    every connection), then the done() hook."""
    listed = ",\n".join(f'  "{path}"' for path in paths)
    return ("local paths = {\n" + listed + "\n}\nlocal n = 0\n"
            "request = function()\n  n = n % #paths + 1\n  return wrk.format(\"GET\", paths[n])\nend\n" + WRK_SCRIPT)


# --- the data ---------------------------------------------------------------------------------


def django_prepare(env: dict[str, str]) -> None:
    """This process on the server's store: migrate the Django database, create the containers."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from evaapi.store import container_specs, store

    call_command("migrate", "--no-input", verbosity=0)
    store().init(container_specs())


def data_make() -> dict[str, str]:
    """The tenant, its admin key and the spaces; the key's secret and the first space's id."""
    from evaapi.auth.scopes import ADMIN
    from evaapi.auth.services.api_keys import api_key_create
    from evaapi.auth.services.tenants import tenant_create
    from tests.graphql.data import space_filled  # the data the tests count store calls on

    tenant = tenant_create(name="bench graphql", tier="enterprise")
    _, secret = api_key_create(tenant=tenant, actor="bench", name="bench graphql caller", scopes=[ADMIN])
    spaces = [space_filled(tenant, name=f"bench space {n:02}", documents=DOCUMENTS, queries=QUERIES,
                           citations=CITATIONS)[0] for n in range(SPACES)]
    return {"secret": secret, "space_id": spaces[0].id}


# --- where one report's time goes, in this process ------------------------------------------------


def phases_run(secret: str, rounds: int) -> dict:
    """The report's steps as the view takes them (evaapi.graphql.view: authentication, then
    evaapi.graphql.execution's operation_prepare and operation_execute, then the JSON response),
    in this process on a uvloop loop as in the server, one report at a time: ms per step,
    `rounds` times after 3 not kept; the execution's store calls and the asyncio tasks it creates.
    Beside them, the baseline: the same store calls through the same selectors the DataLoaders
    call, in a plain loop, without GraphQL."""
    import uvloop
    from django.http import JsonResponse

    from documents import selectors as document_selectors
    from evaapi.auth.services.principals import principal_for
    from evaapi.collector import collector_tune
    from evaapi.graphql.context import GraphQLContext
    from evaapi.graphql.execution import operation_execute, operation_prepare
    from evaapi.graphql.limits import operation_measure
    from evaapi.graphql.schema import schema
    from evaapi.store.metrics import count_store_calls
    from spaces import selectors as space_selectors
    from spaces.queries import selectors as query_selectors

    def store_alone(tenant) -> list[str]:
        with count_store_calls() as counted:
            spaces, _ = space_selectors.space_list(tenant=tenant, limit=SPACES, continuation=None)
            ids = [space.id for space in spaces]
            document_selectors.documents_of_spaces(tenant=tenant, space_ids=ids, limit=DOCUMENTS)
            runs = query_selectors.queries_of_spaces(tenant=tenant, space_ids=ids, limit=QUERIES)
            cited = [c["document_id"] for page, _ in runs.values() for run in page for c in run.result["citations"]]
            document_selectors.documents_by_id(tenant=tenant, document_ids=cited)
        return counted.log

    variables = {"spaces": SPACES}
    collector_tune()  # as the server's processes do (evaapi.asgi): the figures are theirs
    loop = uvloop.new_event_loop()
    tasks = 0

    def counting_factory(loop, coro, **kwargs):
        nonlocal tasks
        tasks += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting_factory)
    steps = ("authentication", "prepare", "execution", "JSON")
    times: dict[str, list[float]] = {name: [] for name in (*steps, "total", "store alone")}
    try:
        for n in range(3 + rounds):
            marks = [time.perf_counter()]
            principal = principal_for(credentials=secret)
            marks.append(time.perf_counter())
            operation = operation_prepare(NESTED, variables, None)
            marks.append(time.perf_counter())
            tasks_before = tasks
            with count_store_calls() as counted:
                answer = loop.run_until_complete(operation_execute(operation, GraphQLContext(principal=principal)))
            marks.append(time.perf_counter())
            body = JsonResponse(answer).content
            marks.append(time.perf_counter())
            if "errors" in answer:
                raise RuntimeError(f"the report answered errors in this process: {answer['errors']}")
            started = time.perf_counter()
            baseline_calls = store_alone(principal.tenant)
            alone = (time.perf_counter() - started) * 1000
            if n >= 3:
                for name, started, ended in zip(steps, marks[:-1], marks[1:], strict=True):
                    times[name].append((ended - started) * 1000)
                times["total"].append((marks[-1] - marks[0]) * 1000)
                times["store alone"].append(alone)
                calls, report_tasks = counted.log, tasks - tasks_before
    finally:
        loop.close()
    _, cost = operation_measure(schema.graphql_schema, operation.document, operation.definition, variables)
    return {"times": times, "calls": calls, "bytes": len(body), "cost": cost, "tasks": report_tasks,
            "baseline_calls": baseline_calls}


# --- the server's log ---------------------------------------------------------------------------


def path_kind(path: str) -> str:
    return next((kind for kind, pattern in PATH_KINDS if pattern.match(path)), path)


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log_requests(path: Path, offset: int) -> tuple[list[dict], list[str]]:
    """The request lines (logger evaapi.request) written after `offset`, and any other line at
    WARNING or above."""
    with path.open("rb") as log:
        log.seek(offset)
        raw = log.read()
    requests, others = [], []
    for line in raw.decode(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if line.strip():
                others.append(line)
            continue
        if record.get("logger") == "evaapi.request" and record.get("message") == "request":
            requests.append(record)
        elif record.get("level") in {"WARNING", "ERROR", "CRITICAL"}:
            others.append(line)
    return requests, others


@dataclass
class Logged:
    """What the server logged during one row, by kind of path."""

    row: str
    by_kind: dict[str, list[dict]] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, row: str, path: Path, offset: int) -> "Logged":
        requests, others = log_requests(path, offset)
        logged = cls(row=row, others=others)
        for record in requests:
            logged.by_kind.setdefault(path_kind(record["path"]), []).append(record)
        return logged

    def calls(self, kind: str) -> list[int]:
        return [record["store_calls"] for record in self.by_kind.get(kind, [])]

    def statuses(self) -> set[int]:
        return {record["status"] for records in self.by_kind.values() for record in records}


def line_summary(line: str) -> str:
    """A log line shortened to what it is about: a JSON record's logger and message's first line."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.strip()[:150]
    return f"{record.get('level')} {record.get('logger')}: {str(record.get('message')).splitlines()[0][:150]}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the run ----------------------------------------------------------------------------------


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def report_check(status: int, body: bytes) -> None:
    """Fails loudly unless /graphql answered the whole report: 50 spaces, 20 documents each
    (pointing back to their space), 5 answers each whose citations resolve, no "errors"."""
    if status != 200:
        raise RuntimeError(f"/graphql answered {status}: {body[:1000]!r}")
    answer = json.loads(body)
    if "errors" in answer:
        raise RuntimeError(f"/graphql answered errors: {json.dumps(answer['errors'])[:2000]}")
    edges = answer["data"]["spaces"]["edges"]
    if len(edges) != SPACES:
        raise RuntimeError(f"/graphql answered {len(edges)} spaces, not {SPACES}")
    for edge in edges:
        node = edge["node"]
        documents = node["documents"]["edges"]
        if len(documents) != DOCUMENTS or {d["node"]["space"]["name"] for d in documents} != {node["name"]}:
            raise RuntimeError(f"space {node['name']!r}: {len(documents)} documents, not {DOCUMENTS} of its own")
        runs = node["queryRuns"]["edges"]
        cited = [c["document"] for r in runs for c in r["node"]["result"]["citations"]]
        if len(runs) != QUERIES or len(cited) != QUERIES * CITATIONS or not all(cited):
            raise RuntimeError(f"space {node['name']!r}: {len(runs)} answers, {len(cited)} citations ({cited[:3]})")


def rest_walk(base: str, headers: dict[str, str]) -> tuple[list[str], int]:
    """The REST requests a client makes for the report, made once in order (each must answer
    200): the paths and the bytes of their bodies."""
    paths, total = [], 0

    def get(path: str) -> dict:
        nonlocal total
        status, body = fetch(base + path, headers)
        if status != 200:
            raise RuntimeError(f"REST walk: GET {path} answered {status}: {body[:500]!r}")
        paths.append(path)
        total += len(body)
        return json.loads(body)

    spaces = get(f"/api/v1/spaces?limit={SPACES}")["items"]
    if len(spaces) != SPACES:
        raise RuntimeError(f"REST walk: {len(spaces)} spaces, not {SPACES}")
    cited: list[str] = []
    for space in spaces:
        documents = get(f"/api/v1/spaces/{space['id']}/documents?limit={DOCUMENTS}")["items"]
        queries = get(f"/api/v1/spaces/{space['id']}/queries?limit={QUERIES}")["items"]
        if len(documents) != DOCUMENTS or len(queries) != QUERIES:
            raise RuntimeError(f"REST walk: space {space['id']}: {len(documents)} documents, {len(queries)} queries")
        for run in queries:
            cited += [c["document_id"] for c in run["result"]["citations"] if c["document_id"] not in cited]
    for document_id in cited:
        get(f"/api/v1/documents/{document_id}")
    return paths, total


def wrk_run(wrk: str, script: Path, url: str, seconds: float, headers: dict[str, str]) -> dict:
    """bench/http.py's wrk_run with --timeout WRK_TIMEOUT instead of 5 s, at CONNECTIONS."""
    argv = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", f"{WRK_TIMEOUT}s", "-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + WRK_TIMEOUT + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def measure(wrk: str, script: Path, target: str, workers: int, url: str, seconds: float, headers: dict[str, str],
            server_pids: list[int]) -> Result:
    """bench/http.py's measure (the same figures and others' CPU) over the wrk_run above."""
    busy, own, wall = busy_ticks(), own_ticks(server_pids), time.monotonic()
    raw = wrk_run(wrk, script, url, seconds, headers)
    others = ((busy_ticks() - busy) - (own_ticks(server_pids) - own)) / CLOCK_TICKS / (time.monotonic() - wall)
    names = ("connect", "read", "write", "timeout", "status")
    return Result(
        target=target, server="uvicorn", workers=workers, connections=CONNECTIONS,
        rps=raw["requests"] / (raw["duration_us"] / 1e6), p50=raw["p50_us"] / 1000, p95=raw["p95_us"] / 1000,
        p99=raw["p99_us"] / 1000, errors=sum(raw[name] for name in names),
        error_detail=", ".join(f"{name} {raw[name]}" for name in names if raw[name]), others=max(others, 0.0),
    )


def connections_by_process(pids: list[int], port: int) -> list[int]:
    """How many established connections to `port` each of `pids` holds (from /proc), largest
    first: with keep-alive, a connection stays on the worker that accepted it."""
    inodes = set()
    for listing in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(listing).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")

    def target(fd: Path) -> str:
        try:
            return os.readlink(fd)
        except OSError:  # closed meanwhile
            return ""

    counts = []
    for pid in pids:
        with contextlib.suppress(OSError):
            held = sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if target(fd) in inodes)
            if held:
                counts.append(held)
    return sorted(counts, reverse=True)


def settle(pids: list[int], timeout: float = 60.0) -> None:
    """Until the server's CPU has stopped growing: the requests the warm-up left in flight (a
    report takes a worker hundreds of ms) are done or cancelled before the row starts."""
    deadline = time.monotonic() + timeout
    quiet, last = 0, None
    while time.monotonic() < deadline:
        ticks = cpu_ticks(pids)
        quiet = quiet + 1 if last is not None and ticks - last <= 2 else 0
        if quiet >= 3:
            return
        last = ticks
        time.sleep(0.25)
    print(f"  (warning: the server still busy {timeout:g} s after the warm-up; measuring anyway)")


@dataclass
class Run:
    wrk: str
    tmp: Path
    seconds: float
    warmup: float
    workers: int
    processes: Processes
    redis_pid: int
    measured: list[Result] = field(default_factory=list)
    split: dict[str, list[int]] = field(default_factory=dict)  # row -> connections held by each worker

    def start(self, name: str, app: str, env: dict[str, str] | None = None) -> tuple[ManagedProcess, Path]:
        port = free_port()
        log = self.tmp / f"{name.replace(' ', '-')}.log"
        process = ManagedProcess(f"{name} (uvicorn, {self.workers} worker(s))",
                                 server_argv("uvicorn", app, port, self.workers), port=port, log_path=log, env=env,
                                 cwd=PROJECT_DIR)
        print(f"  {process.name} ...", flush=True)
        self.processes.start(process)
        try:
            wait_ready(process, self.workers)
        except ServiceFailed as exc:
            raise ServiceFailed(f"{exc}\n{log_tail(log)}") from None
        return process, log

    def row(self, process: ManagedProcess, label: str, script_text: str, url: str,
            headers: dict[str, str], log: Path | None = None) -> tuple[Result, Logged | None]:
        """Warm-up (not reported), then the measured row, and what the server logged during it."""
        script = self.tmp / f"{label.split(' (')[0].replace(' ', '-').replace('/', '')}.lua"
        script.write_text(script_text)
        wrk_run(self.wrk, script, url, self.warmup, headers)
        pids = [*session_pids(process.pid), self.redis_pid]
        settle(pids)
        offset = log_size(log) if log else 0
        sample = threading.Timer(min(1.0, self.seconds / 3), lambda: self.split.update(
            {label: connections_by_process(session_pids(process.pid), process.port)}))
        sample.start()
        result = measure(self.wrk, script, label, self.workers, url, self.seconds, headers, pids)
        sample.join()
        self.measured.append(result)
        if result.rps == 0:
            raise RuntimeError(f"{label}: no request completed in {self.seconds:g} s "
                               f"({result.error_detail or 'no errors'}); give the rows more time (--duration)")
        if log is None:
            return result, None
        time.sleep(0.3)  # the requests wrk left in flight finish and are logged
        logged = Logged.read(label, log, offset)
        if not logged.by_kind:
            raise RuntimeError(f"{label}: the server logged no request line (LOG_LEVEL=INFO?):\n{log_tail(log)}")
        return result, logged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per reported row (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes for every target (default: the number of cores)")
    parser.add_argument("--rounds", type=int, default=30,
                        help="reports timed step by step in this process (default 30)")
    parser.add_argument("--quick", action="store_true", help="3-second rows, 1-second warm-ups, 10 rounds: a smoke run")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.duration
    warmup = 1.0 if args.quick else min(3.0, seconds)
    rounds = 10 if args.quick else args.rounds

    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench/graphql.py needs wrk, a load generator written in C (a Python one would be the bottleneck).\n"
              "Install it:  apt-get install wrk   (Debian/Ubuntu; `brew install wrk` on macOS)", file=sys.stderr)
        return 2

    print(f"EVA API GraphQL benchmark (issue 12)\n{machine(wrk)}")
    print(f"wrk -t1 at {CONNECTIONS} connections, {seconds:g} s per row after a {warmup:g} s warm-up (not reported); "
          f"every target under uvicorn via evaapi.serve with {args.workers} worker(s).\nEVA with LOG_LEVEL=INFO (its "
          "JSON line per request, read for the store calls, is written in every EVA row) and\n"
          f"GRAPHQL_MAX_COST={MAX_COST} (the report's cost is above the default limit, 1,000); wrk --timeout "
          f"{WRK_TIMEOUT}s; SQLite store and Redis on this machine.\n", flush=True)

    processes = Processes()
    started, sources = time.monotonic(), source_stamp()
    run = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-graphql-") as tmp_name:
            tmp = Path(tmp_name)
            redis = processes.start(redis_process(log_path=tmp / "redis.log"))
            redis.wait_until_listening()
            env = {**eva_env(tmp, redis.port), "GRAPHQL_MAX_COST": str(MAX_COST)}  # LOG_LEVEL=WARNING here
            # EVA, with one more path: the report without GraphQL (bench/apps/report_floor.py).
            server_env = {**env, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json",
                          "DJANGO_SETTINGS_MODULE": "bench.apps.report_floor_settings"}
            run = Run(wrk=wrk, tmp=tmp, seconds=seconds, warmup=warmup, workers=args.workers, processes=processes,
                      redis_pid=redis.pid)

            print(f"Preparing EVA (migrate, the store's containers) and the data: 1 enterprise tenant, {SPACES} "
                  f"spaces x {DOCUMENTS} processed documents\nand {QUERIES} completed queries citing {CITATIONS} of "
                  "them, in this process ...", flush=True)
            made = time.monotonic()
            django_prepare(env)
            fixtures = data_make()
            print(f"  done in {time.monotonic() - made:.1f} s", flush=True)

            print(f"One report at a time in this process, no HTTP, step by step ({rounds} rounds) ...", flush=True)
            phases = phases_run(fixtures["secret"], rounds)

            print(f"Rows ({CONNECTIONS} connections):", flush=True)
            floor_process, _ = run.start("Django floor", "bench.apps.floor:application")
            try:
                url = f"http://127.0.0.1:{floor_process.port}/health"
                status, body = fetch(url, {})
                if status != 200 or json.loads(body) != HEALTH_BODY:
                    raise RuntimeError(f"the floor's /health answered {status} {body!r}")
                floor, _ = run.row(floor_process, FLOOR, WRK_SCRIPT, url, {})
            finally:
                processes.stop(floor_process)

            eva, log = run.start("EVA", "evaapi.asgi:application", env=server_env)
            try:
                base = f"http://127.0.0.1:{eva.port}"
                headers = {"Authorization": f"Bearer {fixtures['secret']}"}
                space_path = f"/api/v1/spaces/{fixtures['space_id']}"
                status, body = fetch(base + space_path, headers)
                if status != 200:
                    raise RuntimeError(f"GET {space_path} answered {status}: {body[:500]!r}\n{log_tail(log)}")
                status, report = post(base + "/graphql", NESTED_BODY, headers)
                report_check(status, report)
                status, floor_report = fetch(base + "/bench/report", headers)
                if status != 200 or json.loads(floor_report)["data"] != json.loads(report)["data"]:
                    raise RuntimeError(f"GET /bench/report answered {status}, not the GraphQL report's data: "
                                       f"{floor_report[:500]!r}")
                rest_paths, rest_bytes = rest_walk(base, headers)
                print(f"    checked: /graphql answers {SPACES} spaces x {DOCUMENTS} documents, {QUERIES} answers "
                      f"each, no errors ({len(report):,} bytes);\n    /bench/report answers the same data without "
                      f"GraphQL;\n    the REST walk: {len(rest_paths)} requests, all 200 ({rest_bytes:,} bytes)",
                      flush=True)
                space_read, space_logged = run.row(eva, SPACE_READ, WRK_SCRIPT, base + space_path, headers, log)
                graphql, graphql_logged = run.row(eva, GRAPHQL, post_script(), base + "/graphql", headers, log)
                no_graphql, no_graphql_logged = run.row(eva, NO_GRAPHQL, WRK_SCRIPT, base + "/bench/report", headers,
                                                        log)
                rest, rest_logged = run.row(eva, REST, sequence_script(rest_paths), base + "/", headers, log)
            finally:
                processes.stop(eva)
    except BaseException as exc:
        if run and run.measured:
            print(f"\nStopped by {type(exc).__name__}; the rows measured until then:\n\n{table(run.measured, {})}")
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

    print(f"\nResults (run took {time.monotonic() - started:.0f} s; load average after: {load_average()})\n")
    print(table([floor, space_read, graphql, no_graphql, rest], {(floor.workers, floor.connections): floor}))
    print("\n  req/s vs floor and p99 vs floor: against the Django floor's row (same server, workers and "
          "connections).\n  errors: wrk's socket errors plus responses with status >= 400. others' CPU: cores "
          "taken during the row by\n  anything but the server, Redis, wrk and this script.")
    split = ", ".join(f"{row.removeprefix('EVA ')} {' + '.join(map(str, counts)) or '?'}"
                      for row, counts in run.split.items())
    print(f"  {CONNECTIONS} connections held by each worker ({min(1.0, seconds / 3):g} s into the row; keep-alive "
          f"keeps a connection on the worker\n  that accepted it): {split}")

    print("\nFrom the server's log (every request logged during the row; app ms: the request's time inside the "
          "application,\nRequestIdMiddleware's duration_ms, without the server's queue):\n")
    header = ("row", "path", "requests", "store calls min-max (median)", "app ms p50", "app ms p95")
    lines = [header]
    for logged in (space_logged, graphql_logged, no_graphql_logged, rest_logged):
        for kind, records in logged.by_kind.items():
            calls = logged.calls(kind)
            durations = [record["duration_ms"] for record in records]
            lines.append((logged.row, kind, f"{len(records):,}",
                          f"{min(calls)}-{max(calls)} ({statistics.median(calls):g})",
                          f"{statistics.median(durations):.2f}", f"{pct(durations, 95):.2f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  " + "  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                               for i, cell in enumerate(line)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    for logged in (space_logged, graphql_logged, no_graphql_logged, rest_logged):
        bad = logged.statuses() - {200}
        if bad:
            print(f"  WARNING: {logged.row}: responses with status {sorted(bad)}")
        if logged.others:
            kinds = Counter(line_summary(line) for line in logged.others)
            print(f"  {logged.row}: {len(logged.others)} other log line(s) at WARNING or above (or not JSON):")
            for summary, count in kinds.most_common(4):
                print(f"    {count:>4} x {summary}")

    graphql_calls = graphql_logged.calls("/graphql")
    walk_counts: dict[str, int] = {}
    for path in rest_paths:
        walk_counts[path_kind(path.split("?")[0])] = walk_counts.get(path_kind(path.split("?")[0]), 0) + 1
    rest_calls = sum(count * statistics.median(rest_logged.calls(kind)) for kind, count in walk_counts.items())
    rest_seconds = len(rest_paths) / rest.rps
    walk = ", ".join(f"{count} {kind}" for kind, count in walk_counts.items())
    print(f"\nThe report (50 spaces x 20 documents, 5 answers each with their cited documents), at {CONNECTIONS} "
          "connections:\n")
    print(f"  GraphQL: 1 request of {len(report):,} bytes; p50 {graphql.p50:.2f} ms, p95 {graphql.p95:.2f} ms a "
          f"report; {graphql.rps:,.1f} reports/s;\n           store calls {min(graphql_calls)}-{max(graphql_calls)} a "
          f"request ({len(graphql_calls):,} requests logged; {graphql_calls.count(min(graphql_calls)):,} with "
          f"{min(graphql_calls)})")
    print(f"  REST:    {len(rest_paths)} requests ({walk}),\n"
          f"           {rest_bytes:,} bytes in all; p50 {rest.p50:.2f} ms, p95 {rest.p95:.2f} ms a request; "
          f"{rest.rps:,.0f} req/s;\n           the whole report {len(rest_paths)} / {rest.rps:,.0f} req/s = "
          f"{rest_seconds * 1000:,.0f} ms ({1 / rest_seconds:,.2f} reports/s), {rest_calls:g} store calls")
    print(f"  GraphQL against REST: a report in {graphql.p50:,.0f} ms (p50) against {rest_seconds * 1000:,.0f} ms "
          f"for the 201 requests ({graphql.p50 / (rest_seconds * 1000):.2f}x);\n"
          f"           {graphql.rps:,.2f} against {1 / rest_seconds:,.2f} reports/s; "
          f"{statistics.median(graphql_calls):g} against {rest_calls:g} store calls; {len(report):,} against "
          f"{rest_bytes:,} bytes")

    times = phases["times"]
    total = statistics.median(times["total"])
    notes = {
        "prepare": f"parse, validate, depth and cost (the operation costs {phases['cost']:,})",
        "execution": f"{len(phases['calls'])} store calls ({', '.join(phases['calls'])}); "
                     f"{phases['tasks']:,} asyncio tasks",
        "JSON": f"{phases['bytes']:,} bytes",
        "store alone": f"baseline: {len(phases['baseline_calls'])} store calls "
                       f"({', '.join(phases['baseline_calls'])}) through the selectors, no GraphQL",
    }
    print(f"\nOne report in this process, no HTTP, one at a time on a uvloop loop (median of {rounds} reports):\n")
    for name, values in times.items():
        median = statistics.median(values)
        share = f"{median / total:4.0%}" if name not in {"total", "store alone"} else "    "
        print(f"  {name:<15} {median:8.2f} ms  {share}   {notes.get(name, '')}".rstrip())
    graphql_app = [record["duration_ms"] for record in graphql_logged.by_kind.get("/graphql", [])]
    held = " + ".join(map(str, run.split.get(GRAPHQL, []))) or "?"
    print(f"  In the server at {CONNECTIONS} connections (reports at once on each worker's loop: {held}): app ms p50 "
          f"{statistics.median(graphql_app):,.2f}, p95 {pct(graphql_app, 95):,.2f}; wrk p50 {graphql.p50:,.2f} ms")

    goal = GOAL_P95_FACTOR * space_read.p95
    print("\nGoal of issue 12 (measured in this run; "
          f"{args.workers} worker(s), {CONNECTIONS} connections):\n")
    print(f"  GraphQL report p95 <= {GOAL_P95_FACTOR:g}x a REST space read's p95   {graphql.p95:.2f} ms vs "
          f"{GOAL_P95_FACTOR:g} x {space_read.p95:.2f} ms = {goal:.2f} ms ({graphql.p95 / space_read.p95:.2f}x)   "
          f"{verdict(graphql.p95 <= goal)}")
    held = " + ".join(map(str, run.split.get(NO_GRAPHQL, []))) or "?"
    print(f"  The same report without GraphQL                 p95 {no_graphql.p95:.2f} ms "
          f"({no_graphql.p95 / space_read.p95:.2f}x the space read's), p50 {no_graphql.p50:.2f} ms; "
          f"{no_graphql.rps:,.1f} reports/s\n"
          f"    (bench/apps/report_floor.py: the same authentication, selectors and data, plain dicts, one "
          f"JSON response;\n    connections per worker {held}): what any executor's report costs at least; "
          f"GraphQL's p95 is {graphql.p95 / no_graphql.p95:.2f}x it")
    print(f"\n  Not a goal: the Django floor's p95 {floor.p95:.2f} ms; the report's p95 is "
          f"{graphql.p95 / floor.p95:.1f}x it, the space read's {space_read.p95 / floor.p95:.1f}x.")

    now = source_stamp()
    changed = sorted(name for name in set(now) | set(sources) if now.get(name) != sources.get(name))
    if changed:
        shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
        print(f"\nWARNING: {len(changed)} application file(s) changed while the run measured them, so rows "
              f"before and after\nmay measure different code: {shown}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
